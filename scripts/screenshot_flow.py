"""Screenshot of the "Order flow" layout playing the shared real capture (Binance BTCUSDT).

    xvfb-run -a .venv/bin/python scripts/screenshot_flow.py [--out docs/order-flow.png]
        [--seek 2024-07-19T00:01:30Z] [--seconds 6] [--speed 5] [--footprint] [--interval 5s]

Opens the book and trades files of ``../shared/data/binance-futures``, switches to View ▸ Layout ▸
Order Flow, seeks, plays for a while and saves the window.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from shot_util import pump, wait  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="/tmp/flow_shot.png")
    ap.add_argument("--seek", default="2024-07-19T00:01:30Z")
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--speed", type=float, default=5.0)
    ap.add_argument("--interval", default="5s")
    ap.add_argument("--rows", type=int, default=5)
    ap.add_argument("--window", type=int, default=300)
    ap.add_argument("--footprint", action="store_true")
    ap.add_argument("--size", default="1680x1000")
    ap.add_argument("--zoom", metavar="T0,T1,P0,P1", help="after playing: show this time (ISO) and price window")
    ap.add_argument("--manual", action="store_true", help="trade by hand: a bracketed market buy after the seek")
    ap.add_argument("--layout", choices=("flow", "default"), default="flow")
    ap.add_argument("--candles", action="store_true", help="candles on the main price chart")
    ap.add_argument("--bubbles-min", type=float, default=0.0, help="heatmap large-lot filter")
    args = ap.parse_args()

    data = REPO.parent / "shared" / "data" / "binance-futures"
    files = sorted(
        str(p)
        for p in data.glob("binance-futures_*_BTCUSDT.csv.gz")
        if "update_ids" not in p.name and "ticker" not in p.name
    )
    if not files:
        print(f"no capture in {data}", file=sys.stderr)
        return 1

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from replayterm.core.data import parse_time
    from replayterm.qt.app import create_application
    from replayterm.qt.controller import ReplayController
    from replayterm.qt.main_window import MainWindow
    from replayterm.qt.settings import open_settings

    app = create_application([])
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(settings=open_settings(Path(tmp) / "shot.ini"))
        w, h = (int(v) for v in args.size.split("x"))
        window.resize(w, h)
        window.show()
        QApplication.processEvents()
        if args.layout == "flow":
            window.order_flow_layout()
        window.chart_candles.act.setChecked(args.candles)
        window.bubbles.min_size.setValue(args.bubbles_min)
        flow = window.flow
        flow.interval_box.setCurrentText(args.interval)
        flow.rows_box.setValue(args.rows)
        flow.mode_box.setCurrentIndex(1 if args.footprint else 0)
        idx = flow.window_box.findData(args.window)
        if idx >= 0:
            flow.window_box.setCurrentIndex(idx)
        controller = ReplayController(window)
        window.request_open(files)
        wait(app, lambda: window.sink.frames_rendered > 0, 300)
        wait(app, lambda: flow._frame is not None, 120)
        window.seek_requested.emit(parse_time(args.seek))
        pump(app, 1.0)
        if args.manual:
            window.docks["manual"].show()
            window.resizeDocks([window.docks["ladder"], window.docks["manual"]], [700, 280], Qt.Orientation.Vertical)
            window.manual.size_box.setValue(0.5)
            window.manual.tp.setValue(15.0)
            window.manual.sl.setValue(15.0)
            window.manual._market(1)
            wait(app, lambda: window.manual.handle_id is not None, 60)
            pump(app, 1.0)
        window.transport.set_speed(args.speed)
        window.transport.toggle_play()
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.002)
        window.transport.toggle_play()
        pump(app, 0.8)
        if args.zoom:
            t0, t1, p0, p1 = args.zoom.split(",")
            flow.act_follow.setChecked(False)
            flow.price.setXRange(parse_time(t0) / 1e6, parse_time(t1) / 1e6, padding=0.0)
            flow.price.setYRange(float(p0), float(p1), padding=0.0)
            pump(app, 1.5)
        window.grab().save(args.out)
        print(f"saved {args.out}: {flow.status.text()}")
        window.close()
        controller.shutdown()
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
