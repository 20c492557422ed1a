"""File ▸ Serve inside the app: the server runs on qasync in the GUI thread's loop and a client in
another process follows the app's transport; the Clients panel lists it."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from replayterm.qt.main_window import MainWindow

SAMPLE = sorted(str(p) for p in (Path(__file__).resolve().parents[2] / "data").glob("synthetic_*.csv.gz"))
T0 = 1704153660_000000  # 2024-01-02T00:01:00Z

CLIENT = """
import asyncio, json, sys, aiohttp
async def main():
    async with aiohttp.ClientSession() as s, s.ws_connect(sys.argv[1], max_msg_size=0) as ws:
        last = None
        try:
            while True:
                msg = await ws.receive(timeout=float(sys.argv[2]))
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                last = json.loads(msg.data)["localTimestamp"]
        except TimeoutError:
            pass
        print(last)
asyncio.run(main())
"""


@pytest.mark.skipif(not SAMPLE, reason="bundled sample missing")
def test_serving_from_the_app_follows_its_transport(qtbot: QtBot, settings: QSettings) -> None:
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    host = w.serve_host
    host.set_paths(SAMPLE)
    host.start(port=0)
    qtbot.waitUntil(lambda: host.running, timeout=60_000)
    assert host.server is not None
    assert "serving" in w.clients.status.text()
    host.apply_frame(SimpleNamespace(local_ts=T0, playing=False, speed=1.0, reset=True))  # type: ignore[arg-type]
    opts = {"exchange": "synthetic", "dataTypes": ["trade", "book_change"]}
    url = f"ws://127.0.0.1:{host.server.ws_port}/ws-replay-normalized?" + urllib.parse.urlencode(
        {"options": json.dumps(opts)}
    )
    client = subprocess.Popen([sys.executable, "-c", CLIENT, url, "3"], stdout=subprocess.PIPE, text=True)
    try:
        qtbot.waitUntil(lambda: w.clients.table.rowCount() == 1, timeout=30_000)
        # The app moves to 00:01:30 (paused): the client gets everything up to there, no further.
        host.apply_frame(SimpleNamespace(local_ts=T0 + 30_000_000, playing=False, speed=1.0, reset=False))  # type: ignore[arg-type]
        qtbot.waitUntil(lambda: bool(host.clients()) and host.clients()[0].messages > 1000, timeout=30_000)
        w.clients.refresh()
        assert int(w.clients.table.item(0, 3).text().replace(",", "")) > 1000
        assert "trade" in w.clients.table.item(0, 2).text()
        qtbot.waitUntil(lambda: client.poll() is not None, timeout=60_000)
        last = client.stdout.read().strip() if client.stdout else ""
        assert "2024-01-02T00:01:29" <= last < "2024-01-02T00:01:30.000001Z"
        qtbot.waitUntil(lambda: w.clients.table.rowCount() == 0, timeout=10_000)
    finally:
        if client.poll() is None:
            client.kill()
        host.close()


@pytest.mark.skipif(not SAMPLE, reason="bundled sample missing")
def test_opening_other_files_switches_a_running_server(qtbot: QtBot, settings: QSettings) -> None:
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    host = w.serve_host
    host.set_paths(SAMPLE)
    host.start(port=0)
    qtbot.waitUntil(lambda: host.running, timeout=60_000)
    try:
        first = host.server
        host.set_paths([p for p in SAMPLE if "trades" in p])
        qtbot.waitUntil(lambda: host.running and host.server is not first, timeout=60_000)
        assert host.server is not None
        assert all(m.book is None for m in host.server.catalog.markets.values())
    finally:
        host.close()
