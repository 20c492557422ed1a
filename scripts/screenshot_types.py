"""Open given files in the app, optionally load strategies, play, and save a screenshot.

    xvfb-run -a .venv/bin/python scripts/screenshot_types.py FILE... --out shot.png
        [--strategy basis] [--param basis:entry_z=1.5] [--second-ladder] [--focus 1]
        [--raise ticker] [--seek 60] [--seconds 15] [--speed 10] [--liq-min 0.5]

Made for the Tardis types (quotes + trades, L2 + book_ticker + derivative_ticker +
liquidations, two instruments): goes through the real worker exactly as a user would.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from shot_util import pump as _pump
from shot_util import wait as _wait


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--out", default="/tmp/types_shot.png")
    ap.add_argument("--strategy", action="append", default=[])
    ap.add_argument("--param", action="append", default=[], help="NAME:key=value for a strategy")
    ap.add_argument("--second-ladder", action="store_true")
    ap.add_argument("--focus", type=int, default=-1, help="instrument index to show")
    ap.add_argument("--raise", dest="raise_", action="append", default=[], help="docks to bring to front")
    ap.add_argument("--seek", type=float, default=0.0, help="seconds after the start to seek to first")
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--speed", type=float, default=10.0)
    ap.add_argument("--liq-min", type=float, default=0.0)
    ap.add_argument("--min-size", type=float, default=0.0, help="the tape's minimum trade size")
    ap.add_argument("--tall", action="append", default=[], help="DOCK=PIXELS heights to set")
    ap.add_argument("--size", default="1680x1000")
    args = ap.parse_args()

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
        controller = ReplayController(window)
        window.request_open([str(Path(f).resolve()) for f in args.files])
        if not _wait(app, lambda: window.sink.frames_rendered > 0):
            print("the files did not open", file=sys.stderr)
            return 1
        _pump(app, 0.5)
        if args.focus >= 0:
            window.instrument_box.setCurrentIndex(args.focus)
            _pump(app, 0.5)
        if args.second_ladder:
            window.docks["ladder2"].show()
            _pump(app, 0.5)
        if args.liq_min:
            window.tape.liq_min_size.setValue(args.liq_min)
        ui = window.strategies
        for spec in args.strategy:
            params = {}
            for p in args.param:
                name, _, kv = p.partition(":")
                if name == spec:
                    key, _, value = kv.partition("=")
                    params[key] = value
            n = len(ui.store)
            window.strategies.add_strategy.emit(spec, params)
            _wait(app, lambda n=n: len(ui.store) > n, 120)
        for name in args.raise_:
            window.docks[name].raise_()
        if args.min_size:
            window.tape.min_size.setValue(args.min_size)
        from PySide6.QtCore import Qt

        for spec in args.tall:
            name, _, px = spec.partition("=")
            window.resizeDocks([window.docks[name]], [int(px)], Qt.Orientation.Vertical)
        if args.seek:
            start = window.transport.slider.span()[0]
            window.seek_requested.emit(int(start + args.seek * 1e6))
            _pump(app, 2.0)
        window.transport.set_speed(args.speed)
        window.transport.toggle_play()
        _pump(app, args.seconds)
        window.transport.toggle_play()
        _pump(app, 0.8)
        window.grab().save(args.out)
        for info in ui.store.infos():
            print(
                f"{info.name}: {info.status}, {info.instrument}, net {info.pnl.net:+.4f}, {info.fills} fills"
            )
        window.close()
        controller.shutdown()
    print(f"saved {args.out}")
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
