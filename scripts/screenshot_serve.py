"""Serve from the app while it plays, with a WebSocket client in another process; save a screenshot.

    xvfb-run -a .venv/bin/python scripts/screenshot_serve.py [--out docs/serve.png] [--seconds 12]

Opens the bundled sample, starts File ▸ Serve, connects a client process that subscribes to
trades, book changes and a computed snapshot, plays at 5x and grabs the window with the Clients
panel raised.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

from shot_util import pump as _pump  # scripts/ is on sys.path
from shot_util import wait as _wait

CLIENT = """
import asyncio, json, sys, aiohttp
async def main():
    async with aiohttp.ClientSession() as s, s.ws_connect(sys.argv[1], max_msg_size=0) as ws:
        async for msg in ws:
            pass
asyncio.run(main())
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="/tmp/serve_shot.png")
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--speed", type=float, default=5.0)
    ap.add_argument("--size", default="1680x1000")
    args = ap.parse_args()

    from replayterm.qt.app import bundled_sample, create_application
    from replayterm.qt.controller import ReplayController
    from replayterm.qt.main_window import MainWindow
    from replayterm.qt.settings import open_settings

    files = bundled_sample()
    app = create_application([])
    clients: list[subprocess.Popen[bytes]] = []
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
        if not _wait(app, lambda: host.running, 60) or host.server is None:
            print("the server did not start", file=sys.stderr)
            return 1
        for types in (["trade", "book_change", "book_snapshot_10_100ms"], ["trade", "trade_bar_1s", "quote"]):
            opts = {"exchange": "synthetic", "symbols": ["SYNTHUSD"], "dataTypes": types}
            url = f"ws://127.0.0.1:{host.server.ws_port}/ws-replay-normalized?" + urllib.parse.urlencode(
                {"options": json.dumps(opts)}
            )
            clients.append(subprocess.Popen([sys.executable, "-c", CLIENT, url]))
        _wait(app, lambda: len(host.clients()) == 2, 30)
        window.docks["clients"].raise_()
        from PySide6.QtCore import Qt

        d = window.docks
        window.resizeDocks(
            [d["charts"], d["pnl"], d["heatmap"], d["clients"]], [360, 90, 140, 250], Qt.Orientation.Vertical
        )
        window.transport.set_speed(args.speed)
        window.transport.toggle_play()
        _pump(app, args.seconds)
        window.clients.refresh()
        _pump(app, 0.3)
        window.grab().save(args.out)
        for c in host.clients():
            print(f"client {c.id}: {c.messages:,} messages, {c.bytes:,} bytes, lag {c.lag_us} µs, {c.state}")
        window.transport.toggle_play()
        for proc in clients:
            proc.kill()
        window.close()
        controller.shutdown()
    print(f"saved {args.out}")
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
