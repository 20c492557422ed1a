"""Clients of the in-app server follow the app's transport: its time, pauses and seeks."""

from __future__ import annotations

import asyncio
import json
import urllib.parse

import aiohttp

from replayterm.serve.catalog import Catalog
from replayterm.serve.server import AppClock, ReplayServer, ServeConfig

T0 = 1704153660_000000  # 2024-01-02T00:01:00Z


def test_clients_follow_the_app_clock_and_its_seeks(catalog: Catalog) -> None:
    async def run() -> None:
        clock = AppClock()
        server = ReplayServer(catalog, ServeConfig(port=0), app_clock=clock)
        server.follow(T0, playing=False, speed=1.0, seeked=True)
        _, ws_port = await server.start()
        opts = {"exchange": "synthetic", "dataTypes": ["trade", "book_change"]}
        url = f"ws://127.0.0.1:{ws_port}/ws-replay-normalized?" + urllib.parse.urlencode(
            {"options": json.dumps(opts)}
        )
        try:
            async with aiohttp.ClientSession() as session, session.ws_connect(url, max_msg_size=0) as ws:
                # The app is paused at T0: nothing is sent (the client starts at the app's time).
                try:
                    msg = await ws.receive(timeout=0.5)
                    raise AssertionError(f"unexpected message {msg}")
                except TimeoutError:
                    pass
                # The app plays to T0 + 5 s and pauses: everything up to then arrives, nothing after.
                server.follow(T0 + 5_000_000, playing=False, speed=1.0, seeked=False)
                seen = []
                while True:
                    try:
                        msg = await ws.receive(timeout=1.0)
                    except TimeoutError:
                        break
                    seen.append(json.loads(msg.data))
                assert seen[0]["type"] == "book_change"
                assert seen[0]["localTimestamp"] > "2024-01-02T00:01:00"
                assert seen[-1]["localTimestamp"] <= "2024-01-02T00:01:05.000000Z"
                assert len(seen) > 100
                # The app seeks back to 00:00:30 and plays at 2x: a fresh snapshot comes first.
                server.follow(T0 - 30_000_000, playing=True, speed=2.0, seeked=True)
                msg = json.loads((await ws.receive(timeout=10)).data)
                assert msg["type"] == "book_change"
                assert msg["isSnapshot"] is True
                assert msg["localTimestamp"] == "2024-01-02T00:00:30.000001Z"
                # A client may not steer the app's replay.
                await ws.send_json({"action": "seek", "to": "2024-01-02T00:05:00Z"})
                while True:
                    m = json.loads((await ws.receive(timeout=10)).data)
                    if m.get("type") == "error":
                        assert "app" in m["message"]
                        break
        finally:
            await server.stop()

    asyncio.run(run())
