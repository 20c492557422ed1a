"""Slow and stuck clients never stall the server, the other clients or the event loop."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
import urllib.parse

import aiohttp

from replayterm.serve.catalog import Catalog
from replayterm.serve.server import ReplayServer, ServeConfig

ALL = {"exchange": "synthetic", "dataTypes": ["trade", "book_change"]}  # ~30 MB of JSON
TRADES = {"exchange": "synthetic", "dataTypes": ["trade"], "to": "2024-01-02T00:05:00Z"}


def stuck_client(port: int, path: str, websocket: bool) -> socket.socket:
    """Connects, sends the request, then never reads (a tiny receive buffer fills at once)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    headers = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if websocket:
        key = base64.b64encode(os.urandom(16)).decode()
        headers += f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        headers += "Sec-WebSocket-Version: 13\r\n"
    sock.sendall((headers + "\r\n").encode())
    return sock


def test_stuck_clients_are_closed_and_others_keep_streaming(catalog: Catalog) -> None:
    async def run() -> None:
        config = ServeConfig(port=0, stall_timeout_s=2.0)
        server = ReplayServer(catalog, config)
        http_port, ws_port = await server.start()
        q = urllib.parse.urlencode({"options": json.dumps(ALL)})
        stuck = [
            stuck_client(ws_port, f"/ws-replay-normalized?{q}", websocket=True),
            stuck_client(http_port, f"/replay-normalized?{q}", websocket=False),
        ]
        try:
            await asyncio.sleep(0.5)
            assert len(server.clients) == 2
            # A healthy client gets its whole replay meanwhile.
            url = f"ws://127.0.0.1:{ws_port}/ws-replay-normalized?" + urllib.parse.urlencode(
                {"options": json.dumps(TRADES)}
            )
            received = 0
            async with aiohttp.ClientSession() as session, session.ws_connect(url, max_msg_size=0) as ws:
                async for msg in ws:
                    assert msg.type == aiohttp.WSMsgType.TEXT
                    received += 1
                assert ws.close_code == 1000, (ws.close_code, ws.exception())
            market = catalog.find("synthetic", "SYNTHUSD")
            assert market is not None
            assert market.trades is not None
            assert received == market.trades.count_before(1704153900000000)
            # The stuck ones are closed after the stall timeout and everything they held is freed.
            deadline = time.monotonic() + 20
            max_buffered = 0
            while server.clients and time.monotonic() < deadline:
                max_buffered = max([max_buffered, *(c.buffered for c in server.clients.values())])
                await asyncio.sleep(0.05)
            assert not server.clients
            assert max_buffered <= config.high_water + config.chunk_bytes  # one write over the mark at most
        finally:
            for sock in stuck:
                sock.close()
            await server.stop()

    asyncio.run(run())


def test_stuck_websocket_client_gets_1008_with_a_reason(catalog: Catalog) -> None:
    async def run() -> None:
        server = ReplayServer(catalog, ServeConfig(port=0, stall_timeout_s=1.0))
        _, ws_port = await server.start()
        q = urllib.parse.urlencode({"options": json.dumps(ALL)})
        sock = stuck_client(ws_port, f"/ws-replay-normalized?{q}", websocket=True)
        try:
            deadline = time.monotonic() + 20
            while not server.clients and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert server.clients
            while server.clients and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert not server.clients
            # The client, reading at last, finds the data then a close frame 1008 with the reason.
            sock.settimeout(5)
            data = b""
            while True:
                try:
                    chunk = await asyncio.to_thread(sock.recv, 1 << 20)
                except (TimeoutError, ConnectionError):
                    break
                if not chunk:
                    break
                data += chunk
            close_at = data.rfind(b"\x88")
            assert close_at > 0
            frame = data[close_at:]
            assert int.from_bytes(frame[2:4], "big") == 1008
            assert b"stopped reading" in frame
        finally:
            sock.close()
            await server.stop()

    asyncio.run(run())


def test_clients_that_disconnect_mid_stream_free_everything(catalog: Catalog) -> None:
    async def run() -> None:
        server = ReplayServer(catalog, ServeConfig(port=0))
        http_port, ws_port = await server.start()
        q = urllib.parse.urlencode({"options": json.dumps(ALL)})
        try:
            socks = [
                stuck_client(ws_port, f"/ws-replay-normalized?{q}", websocket=True),
                stuck_client(http_port, f"/replay-normalized?{q}", websocket=False),
            ]
            for sock in socks:
                assert await asyncio.to_thread(sock.recv, 4096)  # streaming has begun
            deadline = time.monotonic() + 10
            while len(server.clients) < 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            assert len(server.clients) == 2
            for sock in socks:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                sock.close()  # abrupt: RST
            deadline = time.monotonic() + 10
            while server.clients and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            assert not server.clients
            assert not server.state.loops  # per-client state released
        finally:
            await server.stop()

    asyncio.run(run())
