"""Open the bundled sample (or given files) with a strategy, open Execution settings, change them,
apply (the strategies re-run), and save screenshots of the dialog and of the whole screen.

    Xvfb :110 -screen 0 1600x1000x24 & DISPLAY=:110 .venv/bin/python scripts/screenshot_execution.py \
        --out docs/execution-settings.png [--strategy imbalance_momentum] [FILE ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shot_util import wait as _wait


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("files", nargs="*")
    ap.add_argument("--out", default="/tmp/execution_shot.png")
    ap.add_argument("--strategy", action="append")
    ap.add_argument("--size", default="1600x1000")
    args = ap.parse_args()

    from replayterm.qt.app import bundled_sample, create_application
    from replayterm.qt.controller import ReplayController
    from replayterm.qt.main_window import MainWindow
    from replayterm.qt.settings import open_settings

    files = args.files or bundled_sample()
    app = create_application([])
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(settings=open_settings(Path(tmp) / "shot.ini"))
        w, h = (int(v) for v in args.size.split("x"))
        window.resize(w, h)
        window.move(0, 0)
        window.show()
        controller = ReplayController(window)
        window.request_open(files)
        if not _wait(app, lambda: window.sink.frames_rendered > 0):
            print("the data did not open", file=sys.stderr)
            return 1
        ui = window.strategies
        for spec in args.strategy or ["imbalance_momentum"]:
            n = len(ui.store)
            ui.load(spec)
            _wait(app, lambda n=n: len(ui.store) > n, 60)
        start, end = window.transport.slider.span()
        window.seek_requested.emit((start + end) // 2)
        _wait(app, lambda: ui.now_us >= (start + end) // 2, 60)
        window.execution.show_dialog()
        dialog = window.execution.dialog
        assert dialog is not None
        form = dialog.form
        form.entry_ms.setValue(60.0)
        form.slippage_bps.setValue(0.5)
        dialog.apply()
        _wait(app, lambda: "60/0 ms" in window.execution.label.text(), 60)
        _wait(app, lambda: not ui.busy.busy, 60)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        dialog.move(window.x() + 380, window.y() + 150)
        for _ in range(50):
            app.processEvents()
            time.sleep(0.01)
        dialog.grab().save(str(Path(args.out).with_name(Path(args.out).stem + "-dialog.png")))
        subprocess.run(["import", "-window", "root", args.out], check=False)
        print(window.execution.label.text())
        print(" ".join(window.execution.command()))
        window.close()
        controller.shutdown()
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
