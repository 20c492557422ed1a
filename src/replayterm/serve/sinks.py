"""Where one client's messages go: an HTTP response (NDJSON) or a WebSocket (a frame each).

A sink is what ``ClientLoop`` writes to; it knows nothing about replay, pacing or controls.
The contract (also for sinks added later, e.g. a fan-out to a message bus):

- ``write(lines, interrupted)`` sends ``lines`` in order and returns how many it sent. It checks
  ``interrupted()`` between messages (WebSocket) or between pieces of at most
  ``write_bytes`` (HTTP) and stops early when it turns true, so a control acts before anything
  not yet handed to the socket. It waits, event-driven, while the socket's buffer is above
  ``high_water`` (the client reads slower than the replay goes), and raises ``StalledError`` when the
  client takes nothing for ``stall_timeout_s``. A client that keeps reading is never closed.
- ``reply(message)`` answers a control (a JSON object); a sink without a back channel ignores it.
- ``finish()`` ends a complete replay; ``fail(code, reason)`` ends it with an error.
- ``buffered()`` is the number of bytes waiting in the socket (for the Clients panel).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from aiohttp import web

from replayterm.serve import encode as enc

MAX_CLOSE_REASON = 123
YIELD_BYTES = 32 << 10  # bytes written between two turns of the event loop at most


class StalledError(Exception):
    """The client took nothing for the stall timeout."""


class Sink(Protocol):
    kind: str

    async def write(self, lines: enc.Lines, interrupted: Callable[[], bool]) -> int: ...

    async def reply(self, message: dict[str, Any]) -> None: ...

    async def finish(self) -> None: ...

    async def fail(self, code: int, reason: str) -> None: ...

    def buffered(self) -> int: ...


class _Socket:
    """Flow control over one connection's transport, shared by both sinks."""

    def __init__(self, request: web.Request, high_water: int, stall_timeout_s: float) -> None:
        self.request = request
        self.high_water = high_water
        self.stall_timeout_s = stall_timeout_s
        transport = request.transport
        if transport is not None:
            # asyncio pauses the protocol above ``high`` and resumes it below ``low``: the
            # events a waiting writer wakes on (no polling of the buffer).
            transport.set_write_buffer_limits(high=high_water, low=high_water // 4)

    def buffered(self) -> int:
        transport = self.request.transport
        return transport.get_write_buffer_size() if transport is not None else 0

    def closing(self) -> bool:
        transport = self.request.transport
        return transport is None or transport.is_closing()

    async def room(self) -> None:
        """Return once the socket buffer is below the high-water mark (``StalledError`` after the timeout)."""
        if self.buffered() <= self.high_water or self.closing():
            return
        protocol: Any = self.request.protocol
        try:
            # aiohttp's protocol resolves this when the transport resumes writing
            await asyncio.wait_for(protocol._drain_helper(), self.stall_timeout_s)
        except TimeoutError:
            raise StalledError(
                f"client stopped reading: {self.buffered()} bytes unsent for {self.stall_timeout_s:g} s"
            ) from None


class HttpSink:
    """NDJSON over a streaming HTTP response, written in pieces of about ``write_bytes``."""

    kind = "http"

    def __init__(self, request: web.Request, response: web.StreamResponse, high_water: int,
                 write_bytes: int, stall_timeout_s: float) -> None:  # fmt: skip
        self.response = response
        self.socket = _Socket(request, high_water, stall_timeout_s)
        self.write_bytes = write_bytes

    async def write(self, lines: enc.Lines, interrupted: Callable[[], bool]) -> int:
        n = len(lines)
        if n == 0:
            return 0
        body = enc.ndjson(lines)
        _, offsets = enc.buffers(lines.text)
        ends = offsets[1:] - offsets[0] + np.arange(1, n + 1)  # byte end of each line, newline included
        sent = 0
        while sent < n:
            if sent and interrupted():
                return sent
            start = int(ends[sent - 1]) if sent else 0
            stop = max(sent + 1, int(np.searchsorted(ends, start + self.write_bytes, side="right")))
            await self.socket.room()
            try:
                await asyncio.wait_for(
                    self.response.write(body[start : int(ends[stop - 1])]), self.socket.stall_timeout_s
                )
            except TimeoutError:
                raise StalledError(f"client stopped reading for {self.socket.stall_timeout_s:g} s") from None
            sent = stop
        return sent

    async def reply(self, message: dict[str, Any]) -> None:
        return None

    async def finish(self) -> None:
        await self.response.write_eof()

    async def fail(self, code: int, reason: str) -> None:
        transport = self.socket.request.transport
        if transport is not None:
            transport.abort()

    def buffered(self) -> int:
        return self.socket.buffered()


class WebSocketSink:
    """One text frame per message, handed to aiohttp's WebSocket writer in pieces.

    The frames of a piece (at most ``YIELD_BYTES`` of messages) are built in one compiled pass
    and go out through the connection's ``WebSocketWriter``: refused once it is closing, counted
    in its output, in order with its own frames (control replies, pings, the close). One
    ``send_frame`` per message would cost a system call per message (measured: 22k msg/s against
    several 100k in pieces). Controls are checked between pieces.
    """

    kind = "ws"

    def __init__(self, request: web.Request, ws: web.WebSocketResponse, high_water: int,
                 stall_timeout_s: float) -> None:  # fmt: skip
        self.ws = ws
        self.socket = _Socket(request, high_water, stall_timeout_s)

    async def write(self, lines: enc.Lines, interrupted: Callable[[], bool]) -> int:
        n = len(lines)
        if n == 0:
            return 0
        _, offsets = enc.buffers(lines.text)
        ends = offsets[1:] - offsets[0]
        writer: Any = self.ws._writer  # aiohttp's WebSocketWriter of this connection
        sent = 0
        while sent < n:
            if (sent and interrupted()) or writer is None or writer._closing or self.socket.closing():
                return sent
            await self.socket.room()
            start = int(ends[sent - 1]) if sent else 0
            stop = max(sent + 1, int(np.searchsorted(ends, start + YIELD_BYTES, side="right")))
            frames = enc.websocket_frames(lines.slice(sent, stop).text)
            writer.transport.write(frames)
            writer._output_size += len(frames)
            sent = stop
            if sent < n:
                await asyncio.sleep(0)  # let the control reader run between pieces
        return n

    async def reply(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionError):
            await self.ws.send_str(json.dumps(message))

    async def finish(self) -> None:
        await self._close(1000, "replay finished")

    async def fail(self, code: int, reason: str) -> None:
        await self._close(code, reason)

    async def _close(self, code: int, reason: str) -> None:
        data = reason.encode()[:MAX_CLOSE_REASON]
        with contextlib.suppress(TimeoutError, ConnectionError):
            await asyncio.wait_for(self.ws.close(code=code, message=data), 2.0 if code == 1000 else 1.0)
        transport = self.socket.request.transport
        if code != 1000 and transport is not None and not transport.is_closing():
            transport.abort()

    def buffered(self) -> int:
        return self.socket.buffered()
