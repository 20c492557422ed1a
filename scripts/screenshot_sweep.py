"""Run a sweep from Strategy ▸ Sweep… over three generated days and save a screenshot of the
dialog's heatmap (or results table), or of the window replaying the best run.

    xvfb-run -a .venv/bin/python scripts/screenshot_sweep.py [--out docs/sweep-heatmap.png]
        [--tab heatmap|results] [--replay] [--data DIR]

Goes through the real menu action, dialog, worker processes and replay worker, as a user would.
Days are generated into --data (a temporary folder by default) with the project's simulator.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt
from shot_util import pump as _pump
from shot_util import wait as _wait


def days(folder: Path) -> list[str]:
    from replayterm.core.data.synthetic import generate_files

    files: list[str] = []
    for i, day in enumerate(("2024-01-02", "2024-01-03", "2024-01-04")):
        if not any(folder.glob(f"*incremental_book_L2_{day}*")):
            generate_files(folder, minutes=3, seed=2 + i, start=f"{day}T00:00:00Z")
    files += sorted(str(p) for p in folder.glob("*incremental_book_L2*"))
    files += sorted(str(p) for p in folder.glob("*trades*"))
    return files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="/tmp/sweep_shot.png")
    ap.add_argument("--tab", choices=("heatmap", "results"), default="heatmap")
    ap.add_argument("--replay", action="store_true", help="double-click the best run and shoot the window")
    ap.add_argument("--data", type=Path, help="folder for the generated days (kept)")
    args = ap.parse_args()
    data = args.data or Path(tempfile.mkdtemp(prefix="replayterm-sweep-shot-"))
    data.mkdir(parents=True, exist_ok=True)
    files = days(data)

    from replayterm.qt.app import create_application
    from replayterm.qt.controller import ReplayController
    from replayterm.qt.main_window import MainWindow

    app = create_application([])
    window = MainWindow()
    controller = ReplayController(window)
    window.show()
    window.request_open(files)
    try:
        if not _wait(app, lambda: bool(window.data_files)):
            print("the data did not open", file=sys.stderr)
            return 1
        window.sweep.action.trigger()
        dialog = window.sweep.dialog
        assert dialog is not None
        dialog.setup.strategy.setCurrentText("mean_reversion")
        dialog.setup.set_values({"lookback": "20,40,80", "entry_z": "1.0,1.5,2.0,2.5", "sample_ms": "500"})
        dialog.setup.per_day.setChecked(True)
        dialog.start()
        if not _wait(app, lambda: not dialog.running):
            print("the sweep did not finish", file=sys.stderr)
            return 1
        _pump(app, 0.5)
        print(dialog.status.text())
        if args.replay:
            column = dialog.model.columns.index("net_pnl")
            dialog.table.sortByColumn(column, Qt.SortOrder.DescendingOrder)
            dialog.table.doubleClicked.emit(dialog.proxy.index(0, 0))
            dialog.hide()
            window.speed_changed.emit(1000.0)
            _pump(app, 15.0)
            window.grab().save(args.out)
        else:
            dialog.tabs.setCurrentIndex(1 if args.tab == "heatmap" else 0)
            dialog.heatmap.x_box.setCurrentText("entry_z")
            dialog.heatmap.y_box.setCurrentText("lookback")
            _pump(app, 0.8)
            dialog.grab().save(args.out)
        print(f"saved {args.out}")
        return 0
    finally:
        controller.shutdown()
        window.close()


if __name__ == "__main__":
    raise SystemExit(main())
