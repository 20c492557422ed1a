"""A WebSocket that holds fast clients and obeys controls at once (in-process server, sample data).

- Clients that keep reading are never closed, whatever the message sizes; only a client that
  stops reading is (1008), and the others lose nothing: 20 clients, one stalled, every other
  client's stream equals the HTTP stream of the same options.
- Controls act before anything not yet written: after a seek sent at full speed at most 256 KiB
  of older data arrive and the first message after them is the new position's snapshot; after
  an unsubscribe no more of that type arrives past the same bound.
- A paused client costs no wake-up of its loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import urllib.parse
from typing import Any

import aiohttp
from test_backpressure import stuck_client

from replayterm.serve.catalog import Catalog
from replayterm.serve.server import ReplayServer, ServeConfig

# the opening book (one large message) then 20 s of changes and trades, about 2 MB of JSON
OPTS = {"exchange": "synthetic", "dataTypes": ["trade", "book_change"], "from": "2024-01-02T00:01:00Z",
        "to": "2024-01-02T00:01:20Z", "exactRange": True, "openingSnapshot": True}  # fmt: skip
FULL = {"exchange": "synthetic", "dataTypes": ["trade", "book_change"]}
OLDER_LIMIT = 256 << 10


def ws_url(port: int, options: object) -> str:
    return f"ws://127.0.0.1:{port}/ws-replay-normalized?" + urllib.parse.urlencode(
        {"options": json.dumps(options)}
    )


def http_url(port: int, options: object) -> str:
    return f"http://127.0.0.1:{port}/replay-normalized?" + urllib.parse.urlencode(
        {"options": json.dumps(options)}
    )


async def ws_digest(session: aiohttp.ClientSession, url: str) -> tuple[int, str, int | None]:
    digest = hashlib.sha256()
    n = 0
    async with session.ws_connect(url, max_msg_size=0) as ws:
        async for msg in ws:
            assert msg.type == aiohttp.WSMsgType.TEXT
            digest.update(msg.data.encode() + b"\n")
            n += 1
        return n, digest.hexdigest(), ws.close_code


async def http_digest(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url) as r:
        body = await r.read()
    return body.count(b"\n"), hashlib.sha256(body).hexdigest()


def test_twenty_clients_one_stalled_the_others_get_everything(catalog: Catalog) -> None:
    async def run() -> None:
        config = ServeConfig(port=0, stall_timeout_s=3.0)
        server = ReplayServer(catalog, config)
        http_port, ws_port = await server.start()
        stuck = stuck_client(ws_port, "/ws-replay-normalized?" + urllib.parse.urlencode(
            {"options": json.dumps(OPTS)}), websocket=True)  # fmt: skip
        try:
            async with aiohttp.ClientSession() as session:
                expected = await http_digest(session, http_url(http_port, OPTS))
                assert expected[0] > 3_000
                results = await asyncio.gather(
                    *(ws_digest(session, ws_url(ws_port, OPTS)) for _ in range(19))
                )
            for n, digest, code in results:
                assert code == 1000
                assert (n, digest) == expected
            deadline = time.monotonic() + 30
            while server.clients and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert not server.clients  # the stalled one was closed (1008, see test_backpressure)
        finally:
            stuck.close()
            await server.stop()

    asyncio.run(run())


async def _read_until(ws: aiohttp.ClientWebSocketResponse, done: Any) -> tuple[int, dict[str, Any]]:
    """Bytes of the messages received before the first one ``done`` accepts, and that message."""
    older = 0
    while True:
        msg = await ws.receive(timeout=30)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        m = json.loads(msg.data)
        if done(m):
            return older, m
        older += len(msg.data)


def test_seek_at_full_speed_acts_at_once(catalog: Catalog) -> None:
    async def run() -> None:
        server = ReplayServer(catalog, ServeConfig(port=0))
        _, ws_port = await server.start()
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(ws_url(ws_port, FULL), max_msg_size=0) as ws,
            ):
                for _ in range(2000):  # streaming at full speed
                    await ws.receive(timeout=30)
                await ws.send_json({"action": "seek", "to": "2024-01-02T00:07:00Z"})
                older, first = await _read_until(ws, lambda m: m["localTimestamp"] >= "2024-01-02T00:07:00")
                print("older bytes after the seek:", older)
                assert older <= OLDER_LIMIT
                assert first["type"] == "book_change"
                assert first["isSnapshot"] is True
                assert first["localTimestamp"] == "2024-01-02T00:07:00.000000Z"
                # and an unsubscribe acts as soon: then trades only
                await ws.send_json({"action": "unsubscribe", "dataTypes": ["book_change"]})
                received = 0
                last_change_at = 0
                trades_since = 0
                while trades_since < 2000:
                    data = (await ws.receive(timeout=30)).data
                    received += len(data)
                    if json.loads(data)["type"] == "book_change":
                        last_change_at, trades_since = received, 0
                    else:
                        trades_since += 1
                assert last_change_at <= OLDER_LIMIT
        finally:
            await server.stop()

    asyncio.run(run())


def test_a_paused_client_costs_no_wakeup(catalog: Catalog) -> None:
    async def run() -> None:
        server = ReplayServer(catalog, ServeConfig(port=0))
        _, ws_port = await server.start()
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(ws_url(ws_port, FULL), max_msg_size=0) as ws,
            ):
                await ws.receive(timeout=30)
                await ws.send_json({"action": "pause"})
                while True:  # drain what was in flight
                    try:
                        await ws.receive(timeout=0.5)
                    except TimeoutError:
                        break
                (loop,) = server.state.loops.values()
                assert loop.pacer.paused
                before = loop.wakeups
                await asyncio.sleep(1.5)
                assert loop.wakeups == before
                # speed pacing wakes it only when a message is due, and resume goes on
                await ws.send_json({"action": "resume"})
                assert json.loads((await ws.receive(timeout=30)).data)["type"] in ("trade", "book_change")
        finally:
            await server.stop()

    asyncio.run(run())


def test_subscribe_at_full_speed_starts_at_the_next_unsent_message(catalog: Catalog) -> None:
    async def run() -> None:
        server = ReplayServer(catalog, ServeConfig(port=0))
        _, ws_port = await server.start()
        trades_only = {"exchange": "synthetic", "dataTypes": ["trade"]}
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(ws_url(ws_port, trades_only), max_msg_size=0) as ws,
            ):
                for _ in range(500):
                    await ws.receive(timeout=30)
                await ws.send_json({"action": "subscribe", "dataTypes": ["book_change"]})
                older, first = await _read_until(ws, lambda m: m["type"] == "book_change")
                assert older <= OLDER_LIMIT
                assert first["isSnapshot"] is True
                # the new type is merged in receive-time order with what was not yet sent
                times = [first["localTimestamp"]]
                for _ in range(300):
                    times.append(json.loads((await ws.receive(timeout=30)).data)["localTimestamp"])
                assert times == sorted(times)
        finally:
            await server.stop()

    asyncio.run(run())
