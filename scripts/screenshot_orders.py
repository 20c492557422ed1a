"""Open a market-by-order file, run a strategy, click an order in the order inspector, and save a
screenshot of the window (the inspector, the order drawn on the price chart).

    xvfb-run -a .venv/bin/python scripts/screenshot_orders.py FILE [--out docs/order-inspector.png]
        [--strategy market_maker] [--seek 2023-12-25T23:00:00Z] [--seconds 20] [--speed 100]

Goes through the real replay worker, strategy panel and inspector, as a user would: the order
shown is the first one of the strategy whose reason starts with "filled: the" (it waited in the
queue), else the first order.
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
    ap.add_argument("file")
    ap.add_argument("--out", default="/tmp/orders_shot.png")
    ap.add_argument("--strategy", default="market_maker")
    ap.add_argument("--seek", default="", help="time to start from")
    ap.add_argument("--seconds", type=float, default=20.0, help="wall seconds to play")
    ap.add_argument("--speed", type=float, default=100.0)
    ap.add_argument("--size", default="1680x1000")
    args = ap.parse_args()

    from replayterm.core.data.timefmt import parse_time
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
        window.request_open([args.file])
        if not _wait(app, lambda: window.sink.frames_rendered > 0):
            print("the file did not open", file=sys.stderr)
            return 1
        ui = window.strategies
        ui.load(args.strategy)
        _wait(app, lambda: len(ui.store) > 0, 60)
        if args.seek:
            window.seek_requested.emit(parse_time(args.seek))
            _pump(app, 2.0)
        window.transport.set_speed(args.speed)
        window.transport.toggle_play()
        _pump(app, args.seconds)
        window.transport.toggle_play()
        _pump(app, 1.0)
        window.docks["orders"].raise_()
        window.docks["orders"].show()
        ui.panel.select(ui.store.infos()[0].handle.id)
        orders = window.orders
        orders.set_strategy(ui.store.infos()[0].handle.id)
        orders.refresh()
        if not _wait(app, lambda: orders.inspector.table.rowCount() > 0, 30):
            print("no orders listed", file=sys.stderr)
            return 1
        table = orders.inspector.table
        pick = 0
        for r in range(table.rowCount()):
            item = table.item(r, 5)
            if item is not None and item.text().startswith("filled: the"):
                pick = r
                break
        shown: list[object] = []
        orders.inspected.connect(shown.append)
        table.selectRow(pick)
        _wait(app, lambda: bool(shown), 30)
        _pump(app, 1.0)
        window.grab().save(args.out)
        life = shown[0] if shown else {}
        print(f"saved {args.out}; order {life.get('order_id')}: {life.get('reason')}")  # type: ignore[union-attr]
        window.close()
        controller.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
