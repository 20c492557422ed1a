"""The app after a failed open, checked and screenshotted (issue 19, "done when").

    xvfb-run -a .venv/bin/python scripts/screenshot_failed_open.py [--out docs/failed_open.png]

Opens the bundled sample, serves it (File ▸ Serve), plays at 0.5x, then opens an empty CSV and
closes the error. Saves the window before the failed open (``*_before.png``), with the error
shown (``*_error.png``) and after (the ``--out`` file), and prints what a user would check: the
replay still plays and moves, the transport says so, the server still serves the sample, the
status bar says what failed, and no "strategy callback is not returning" warning appears.
Exits 1 if any of that is wrong.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from shot_util import pump as _pump  # scripts/ is on sys.path
from shot_util import wait as _wait


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="/tmp/failed_open.png")
    ap.add_argument("--size", default="1600x950")
    args = ap.parse_args()

    from replayterm.qt.app import bundled_sample, create_application
    from replayterm.qt.controller import ReplayController
    from replayterm.qt.main_window import MainWindow
    from replayterm.qt.settings import open_settings

    files = bundled_sample()
    app = create_application([])
    out = Path(args.out)
    stem = out.with_suffix("")
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(settings=open_settings(Path(tmp) / "shot.ini"))
        w, h = (int(v) for v in args.size.split("x"))
        window.resize(w, h)
        window.show()
        controller = ReplayController(window)
        window.request_open(files)
        if not _wait(app, lambda: window.sink.frames_rendered > 0):
            print("the sample did not open", file=sys.stderr)
            return 1
        window.clients.port.setValue(0)
        window.act_serve.trigger()
        host = window.serve_host
        if not _wait(app, lambda: host.running, 60):
            print("the server did not start", file=sys.stderr)
            return 1
        served = list(host.paths)
        window.transport.set_speed(0.5)
        window.transport.toggle_play()
        _pump(app, 3.0)
        window.grab().save(f"{stem}_before.png")
        empty = Path(tmp) / "empty.csv"
        empty.write_text("")
        failed: list[str] = []
        controller.worker.open_failed.connect(failed.append)
        window.request_open([str(empty)])
        if not _wait(app, lambda: bool(failed), 60):
            print("the bad open did not fail", file=sys.stderr)
            return 1
        _pump(app, 0.5)
        app.primaryScreen().grabWindow(0).save(f"{stem}_error.png")  # the error dialog is its own window
        window.error_dialog.done(0)
        times: list[int] = []
        window.sink.add_consumer(lambda f: times.append(f.local_ts))
        _pump(app, 4.0)
        window.grab().save(str(out))
        checks = {
            "transport says playing": window.transport.playing,
            "the replay moves on": len(times) > 2 and times[-1] - times[0] > 1_000_000,
            "server still running": host.running,
            "server serves the sample": host.paths == served,
            "status says the open failed": "Could not open empty.csv" in window.status_label.text(),
            "no stall warning": not window.strategies.stall.stalled,
        }
        for name, ok in checks.items():
            print(f"{'ok  ' if ok else 'FAIL'} {name}")
        print("status bar:", window.status_label.text())
        print("transport:", window.transport.rate.text(), window.transport.lag.text())
        if times:
            print(f"replay time moved {(times[-1] - times[0]) / 1e6:.2f} s in 4 s of wall time at 0.5x")
        window.transport.toggle_play()
        window.close()
        controller.shutdown()
    print(f"saved {out} (and _before/_error)")
    app.quit()
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
