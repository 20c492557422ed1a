"""File ▸ Open Database on a real PostgreSQL, then File ▸ Serve with Redis fan-out; two screenshots.

    xvfb-run -a .venv/bin/python scripts/screenshot_database.py [--out-dir docs]

Starts a private PostgreSQL and Redis (tests/local_servers.py), exports the shared Binance capture
(or the bundled sample) into it with 'replayterm export --to', fills the Open Database dialog
(shot 1: open_database.png), opens the tables, plays, starts File ▸ Serve with a Redis URL and a
redis-py subscriber, and grabs the window with the Clients panel raised (shot 2: database.png).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from pathlib import Path

from shot_util import pump as _pump  # scripts/ is on sys.path
from shot_util import wait as _wait

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def _inputs() -> tuple[list[str], str]:
    capture = REPO.parent / "shared" / "data" / "binance-futures"
    if capture.is_dir():
        day = "2024-07-19"
        kinds = ("incremental_book_L2", "trades")
        return [str(capture / f"binance-futures_{k}_{day}_BTCUSDT.csv.gz") for k in kinds], "BTCUSDT"
    from replayterm.qt.app import bundled_sample

    return [f for f in bundled_sample() if "book_ticker" not in f], "SYNTHUSD"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out-dir", default="/tmp")
    ap.add_argument("--size", default="1680x1000")
    args = ap.parse_args()
    import local_servers

    from replayterm import cli

    out = Path(args.out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["REPLAYTERM_CACHE_DIR"] = str(Path(tmp) / "cache")
        pg = local_servers.start_postgres()
        redis_server = local_servers.start_redis()
        try:
            files, symbol = _inputs()
            assert cli.main(["export", *files, "--to", pg.url, "--table", "ticks"]) == 0
            return _shoot(args, out, Path(tmp), pg, redis_server, symbol)
        finally:
            redis_server.stop()
            pg.stop()


def _shoot(args: argparse.Namespace, out: Path, tmp: Path, pg: object, redis_server: object, symbol: str) -> int:
    import redis
    from PySide6.QtCore import Qt

    from replayterm.qt.app import create_application
    from replayterm.qt.controller import ReplayController
    from replayterm.qt.main_window import MainWindow
    from replayterm.qt.settings import open_settings
    from replayterm.qt.widgets.database_dialog import OpenDatabaseDialog

    app = create_application([])
    window = MainWindow(settings=open_settings(tmp / "shot.ini"))
    w, h = (int(v) for v in args.size.split("x"))
    window.resize(w, h)
    window.show()
    controller = ReplayController(window)
    url = pg.url  # type: ignore[attr-defined]
    password = url.split(":")[2].split("@")[0]
    dialog = OpenDatabaseDialog(window.settings, window)
    dialog.server.setText(url.replace(f":{password}@", "@"))
    dialog.password.setText(password)
    dialog.book_table.setText("ticks_incremental_book_L2")
    dialog.trades_table.setText("ticks_trades")
    dialog.symbol.setText(symbol)
    dialog.show()
    _pump(app, 1.0)
    dialog.grab().save(str(out / "open_database.png"))
    dialog.accept()
    window.request_open(dialog.urls)
    if not _wait(app, lambda: window.sink.frames_rendered > 0, 300):
        print("the database source did not open", file=sys.stderr)
        return 1
    window.clients.port.setValue(0)
    window.clients.redis.setText(redis_server.url)  # type: ignore[attr-defined]
    subscriber = redis.Redis.from_url(redis_server.url).pubsub()  # type: ignore[attr-defined]
    subscriber.psubscribe("*:*:*")
    received = [0]
    stop = threading.Event()

    def listen() -> None:
        while not stop.is_set():
            if subscriber.get_message(timeout=0.2) is not None:
                received[0] += 1

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    window.act_serve.trigger()
    host = window.serve_host
    if not _wait(app, lambda: host.running and host.publisher is not None, 120):
        print("the server or the Redis publisher did not start", file=sys.stderr)
        return 1
    d = window.docks
    d["clients"].show()
    d["clients"].raise_()
    window.resizeDocks([d["charts"], d["clients"]], [420, 220], Qt.Orientation.Vertical)
    window.transport.set_speed(5.0)
    window.transport.toggle_play()
    _pump(app, 10.0)
    window.grab().save(str(out / "database.png"))
    stop.set()
    thread.join(2)
    print(f"redis subscriber received {received[0]} messages; published {host.publisher.published}")
    window.transport.toggle_play()
    host.stop()
    controller.shutdown() if hasattr(controller, "shutdown") else None
    window.close()
    return 0 if received[0] > 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
