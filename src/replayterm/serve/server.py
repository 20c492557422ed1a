"""The replay server: tardis-machine's HTTP and WebSocket endpoints, plus control, on aiohttp.

- ``GET /replay-normalized?options=…`` (HTTP port): NDJSON, as fast as the client reads.
- ``/ws-replay-normalized?options=…`` (WebSocket port = HTTP port + 1): one message per frame;
  the client may send ``{"action": "pause" | "resume" | "speed" | "seek" | "subscribe" |
  "unsubscribe", …}``.
- ``GET /health-check`` on both ports.

Every client has its own ``ReplayStream``. Chunks are encoded on a thread pool (the event loop
only moves bytes), so the loop stays free for other clients and, in the desktop app, for the
GUI. Output is pull-based: the next chunk is produced only once the socket buffer has drained
below ``HIGH_WATER``, so memory per client is bounded by about one chunk. A client whose buffer
stays above that for ``stall_timeout_s``, or exceeds ``max_buffer`` bytes, is closed (WebSocket
code 1008 with the reason; HTTP connection aborted) and everything it held is released.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import math
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from aiohttp import WSMsgType, web

from replayterm.core.data import parse_time
from replayterm.core.replay.clock import PlaybackClock
from replayterm.serve import encode as enc
from replayterm.serve.catalog import Catalog
from replayterm.serve.options import OptionsError, Request, parse_data_types, parse_options, resolve
from replayterm.serve.stream import END, ReplayStream

log = logging.getLogger(__name__)

T = TypeVar("T")
HIGH_WATER = 1 << 20
MAX_CLOSE_REASON = 123


@dataclass
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8000  # WebSocket on port + 1; 0 = any free pair
    token: str | None = None
    max_buffer: int = 5 << 20  # bytes waiting for one client before it is closed (tardis-machine's 5 MiB)
    stall_timeout_s: float = 30.0  # a client that reads nothing for this long is closed
    max_inbound: int = 64 << 10  # largest control message accepted
    http_budget: int = 32_768  # messages per stream per chunk
    ws_budget: int = 8_192
    workers: int = 2


class AppClock(PlaybackClock):
    """The desktop app's transport, which following clients mirror; ``generation`` counts its seeks."""

    def __init__(self) -> None:
        super().__init__()
        self.generation = 0


@dataclass
class ClientInfo:
    id: int
    kind: str  # "http" | "ws"
    peer: str
    subscriptions: list[str]
    messages: int = 0
    bytes: int = 0
    position_ts: int = 0
    target_ts: int = END
    buffered: int = 0
    state: str = "streaming"
    follows_app: bool = False

    @property
    def lag_us(self) -> int | None:
        """How far the client is behind its pacing target in replay time (None when unpaced)."""
        if self.target_ts >= END:
            return None
        return max(0, self.target_ts - self.position_ts)


def _free_pace() -> PlaybackClock:
    """A client's own pacing: playing at Max (as fast as it reads) until it asks otherwise."""
    return PlaybackClock(playing=True, speed=math.inf)


class _ClosedError(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class ReplayServer:
    def __init__(
        self,
        catalog: Catalog,
        config: ServeConfig | None = None,
        *,
        app_clock: AppClock | None = None,
        on_change: Callable[[], object] | None = None,
    ) -> None:
        self.catalog = catalog
        self.config = config or ServeConfig()
        self.app_clock = app_clock
        self.on_change = on_change
        self.clients: dict[int, ClientInfo] = {}
        self._next_id = 1
        self._tasks: set[asyncio.Task[Any]] = set()
        self._executor = ThreadPoolExecutor(
            max_workers=self.config.workers, thread_name_prefix="serve-encode"
        )
        self._runners: list[web.AppRunner] = []
        self._wake: dict[int, asyncio.Event] = {}
        self.http_port = 0
        self.ws_port = 0

    # -- lifetime ------------------------------------------------------------------------------

    async def start(self) -> tuple[int, int]:
        http_sock, ws_sock = bind_port_pair(self.config.host, self.config.port)
        self.http_port, self.ws_port = http_sock.getsockname()[1], ws_sock.getsockname()[1]
        http_app = web.Application(middlewares=[self._auth])
        http_app.router.add_get("/replay-normalized", self._http_replay)
        http_app.router.add_get("/health-check", self._health)
        ws_app = web.Application(middlewares=[self._auth])
        ws_app.router.add_get("/ws-replay-normalized", self._ws_replay)
        ws_app.router.add_get("/health-check", self._health)
        for app, sock in ((http_app, http_sock), (ws_app, ws_sock)):
            runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
            await runner.setup()
            await web.SockSite(runner, sock).start()
            self._runners.append(runner)
        return self.http_port, self.ws_port

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- app transport -------------------------------------------------------------------------

    def follow(self, ts: int, playing: bool, speed: float, seeked: bool) -> None:
        """The app's transport moved: following clients pace to it, and jump with it on seeks."""
        clock = self.app_clock
        if clock is None:
            return
        clock.set(ts, playing=playing, speed=speed)
        if seeked:
            clock.generation += 1
        for event in self._wake.values():
            event.set()

    def _target(self, pace: PlaybackClock, position_ts: int) -> int:
        """Where a client's replay may go next: nowhere while it paused, the app's clock when
        following the app, everything at Max, else real time x its speed."""
        if not pace.playing:
            return position_ts
        if self.app_clock is not None:
            return self.app_clock.now() + 1
        return END if pace.is_max else pace.now()

    # -- helpers -------------------------------------------------------------------------------

    @web.middleware
    async def _auth(self, request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        token = self.config.token
        if token:
            given = request.query.get("token") or request.headers.get("Authorization", "").removeprefix(
                "Bearer "
            )
            if not hmac.compare_digest(given.encode(), token.encode()):
                return _json_error(401, "missing or wrong token (pass ?token=… or 'Authorization: Bearer …')")
        result: web.StreamResponse = await handler(request)
        return result

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "clients": len(self.clients), "span": self.catalog.span})

    def _register(self, kind: str, request: web.Request, stream: ReplayStream) -> ClientInfo:
        info = ClientInfo(self._next_id, kind, str(request.remote), stream.subscriptions())
        info.follows_app = self.app_clock is not None
        self._next_id += 1
        self.clients[info.id] = info
        self._changed()
        return info

    def _unregister(self, info: ClientInfo) -> None:
        info.state = "closed"
        self.clients.pop(info.id, None)
        self._wake.pop(info.id, None)
        self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _new_stream(self, request: Request, budget: int) -> ReplayStream:
        stream = ReplayStream(request, budget)
        if self.app_clock is not None:
            stream.seek(max(request.from_ts, self.app_clock.anchor_ts + 1))
        return stream

    async def _call(self, func: Callable[[], T]) -> T:
        """Run CPU work (encoding, seeking) on the server's threads, never on the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, func)

    # -- HTTP ----------------------------------------------------------------------------------

    async def _http_replay(self, request: web.Request) -> web.StreamResponse:
        try:
            req = parse_options(request.query.get("options"), self.catalog)
        except OptionsError as exc:
            return _json_error(400, str(exc))
        stream = await asyncio.get_running_loop().run_in_executor(
            self._executor, self._new_stream, req, self.config.http_budget
        )
        response = web.StreamResponse(headers={"Content-Type": "application/x-json-stream"})
        await response.prepare(request)
        info = self._register("http", request, stream)
        pacer = _free_pace()
        wake = self._wake.setdefault(info.id, asyncio.Event())
        generation = self.app_clock.generation if self.app_clock else 0
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            if self.app_clock is None:
                await self._http_free(request, response, stream, info)
            else:
                await self._http_follow(request, response, stream, info, pacer, wake, generation)
            await response.write_eof()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if task is not None:
                self._tasks.discard(task)
            self._unregister(info)
        return response

    async def _http_write(
        self, request: web.Request, response: web.StreamResponse, info: ClientInfo, data: bytes
    ) -> bool:
        info.bytes += len(data)
        try:
            await asyncio.wait_for(response.write(data), self.config.stall_timeout_s)
        except TimeoutError:
            info.state = "closed: not reading"
            log.warning("client %d stopped reading; closing it", info.id)
            if request.transport is not None:
                request.transport.abort()
            return False
        return True

    async def _http_free(
        self, request: web.Request, response: web.StreamResponse, stream: ReplayStream, info: ClientInfo
    ) -> None:
        """As fast as the client reads: the next chunk is encoded while the last one is sent."""
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=1)

        async def produce() -> None:
            while not stream.at_end:
                await queue.put(await self._call(partial(_http_chunk, stream, END)))
            await queue.put(None)

        producer = asyncio.create_task(produce())
        try:
            while (data := await queue.get()) is not None:
                info.messages, info.position_ts = stream.messages, stream.position_ts
                if data and not await self._http_write(request, response, info, data):
                    raise ConnectionResetError
        finally:
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await producer

    async def _http_follow(
        self,
        request: web.Request,
        response: web.StreamResponse,
        stream: ReplayStream,
        info: ClientInfo,
        pacer: PlaybackClock,
        wake: asyncio.Event,
        generation: int,
    ) -> None:
        """Paced by the app's transport (and jumping with its seeks)."""
        clock = self.app_clock
        assert clock is not None
        while not stream.at_end:
            if clock.generation != generation:
                generation = clock.generation
                await self._call(partial(stream.seek, clock.anchor_ts + 1))
            target = self._target(pacer, stream.position_ts)
            info.target_ts = target
            if target <= stream.position_ts:
                await _wait(wake, 0.005)
                continue
            data = await self._call(partial(_http_chunk, stream, target))
            info.messages, info.position_ts = stream.messages, stream.position_ts
            if data and not await self._http_write(request, response, info, data):
                raise ConnectionResetError

    # -- WebSocket -----------------------------------------------------------------------------

    async def _ws_replay(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=self.config.max_inbound, compress=False, heartbeat=30.0)
        await ws.prepare(request)
        try:
            req = parse_options(request.query.get("options"), self.catalog)
        except OptionsError as exc:
            await _ws_fail(ws, str(exc))
            return ws
        stream = await asyncio.get_running_loop().run_in_executor(
            self._executor, self._new_stream, req, self.config.ws_budget
        )
        info = self._register("ws", request, stream)
        pacer = _free_pace()
        controls: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        wake = self._wake.setdefault(info.id, asyncio.Event())
        reader = asyncio.create_task(self._ws_reader(ws, controls, wake))
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        closing: tuple[int, str] | None = None
        try:
            closing = await self._ws_pump(ws, request, stream, info, pacer, controls, wake)
        except _ClosedError as closed:
            info.state = f"closed: {closed.reason}"
            log.warning("client %d closed: %s", info.id, closed.reason)
            closing = (closed.code, closed.reason)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            if task is not None:
                self._tasks.discard(task)
            self._unregister(info)
        if closing is not None:
            await _close(ws, request, *closing)
        return ws

    async def _ws_reader(
        self, ws: web.WebSocketResponse, controls: asyncio.Queue[Any], wake: asyncio.Event
    ) -> None:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                try:
                    action = json.loads(msg.data)
                    if not isinstance(action, dict):
                        raise ValueError
                except ValueError:
                    action = {"action": "__invalid__", "text": msg.data[:200]}
                await controls.put(action)
                wake.set()
        await controls.put({"action": "__closed__"})
        wake.set()

    async def _ws_pump(
        self,
        ws: web.WebSocketResponse,
        request: web.Request,
        stream: ReplayStream,
        info: ClientInfo,
        pacer: PlaybackClock,
        controls: asyncio.Queue[dict[str, Any]],
        wake: asyncio.Event,
    ) -> tuple[int, str] | None:
        """Stream until the end, a disconnect or a fault; returns the close to send, if any."""
        transport = request.transport
        generation = self.app_clock.generation if self.app_clock else 0
        # Free-running, the next chunk is encoded while the last one drains to the client.
        prefetch: asyncio.Future[bytes] | None = None
        try:
            while True:
                if prefetch is not None:
                    data, prefetch = await prefetch, None
                    info.messages, info.position_ts = stream.messages, stream.position_ts
                    if data and transport is not None:
                        info.bytes += len(data)
                        transport.write(data)
                        await _drain(transport, info, self.config, HIGH_WATER)
                while not controls.empty():
                    action = controls.get_nowait()
                    if action.get("action") == "__closed__":
                        return None
                    reply = await self._control(action, stream, pacer, info)
                    if reply is not None:
                        await ws.send_str(json.dumps(reply))
                if self.app_clock is not None and self.app_clock.generation != generation:
                    generation = self.app_clock.generation
                    await self._call(partial(stream.seek, self.app_clock.anchor_ts + 1))
                if transport is None or transport.is_closing() or ws.closed:
                    return None
                free = self.app_clock is None and pacer.is_max and pacer.playing
                if stream.at_end:
                    if free:
                        # like tardis-machine: close once everything is sent
                        await _drain(transport, info, self.config, 0)
                        return 1000, "replay finished"
                    await _wait(wake, 0.05)
                    continue
                target = self._target(pacer, stream.position_ts)
                info.target_ts = target
                info.state = "streaming" if pacer.playing else "paused"
                if target <= stream.position_ts:
                    await _wait(wake, 0.005)
                    continue
                data = await self._call(partial(_ws_chunk, stream, target))
                info.messages, info.position_ts = stream.messages, stream.position_ts
                if data:
                    info.bytes += len(data)
                    transport.write(data)
                    if free and not stream.at_end and controls.empty():
                        prefetch = asyncio.ensure_future(self._call(partial(_ws_chunk, stream, END)))
                    await _drain(transport, info, self.config, HIGH_WATER)
        finally:
            if prefetch is not None:
                prefetch.cancel()

    async def _control(
        self, action: dict[str, Any], stream: ReplayStream, pacer: PlaybackClock, info: ClientInfo
    ) -> dict[str, Any] | None:
        name = action.get("action")
        try:
            if name == "pause":
                pacer.pause()
                info.state = "paused"
            elif name == "resume":
                pacer.play()
                pacer.seek(stream.position_ts)
            elif name == "speed":
                if self.app_clock is not None:
                    raise OptionsError("the app's transport sets the speed of this replay")
                value = action.get("value")
                if value is None or value == "max":
                    pacer.seek(stream.position_ts)
                    pacer.set_speed(math.inf)
                elif isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                    pacer.seek(stream.position_ts)
                    pacer.set_speed(float(value))
                else:
                    raise OptionsError('"speed" needs "value": a number > 0 (real-time multiple) or "max"')
            elif name == "seek":
                if self.app_clock is not None:
                    raise OptionsError("the app's transport seeks this replay")
                if "to" not in action:
                    raise OptionsError('"seek" needs "to": an ISO-8601 UTC time or µs')
                try:
                    ts = parse_time(action["to"])
                except (ValueError, TypeError) as exc:
                    raise OptionsError(f'"seek": {exc}') from None
                await self._call(partial(stream.seek, ts))
                pacer.seek(stream.position_ts)
            elif name == "subscribe":
                selection = self._selection(action, stream)
                await self._call(partial(stream.subscribe, selection))
            elif name == "unsubscribe":
                markets = None
                if action.get("symbols"):
                    markets = self._selection({**action, "dataTypes": ["trade"]}, stream).markets
                names = action.get("dataTypes")
                if names is not None and not (
                    isinstance(names, list) and all(isinstance(n, str) for n in names)
                ):
                    raise OptionsError('"dataTypes" must be a list of names')
                await self._call(partial(stream.unsubscribe, markets, names))
            elif name == "__invalid__":
                raise OptionsError(f"control messages are JSON objects, got {action.get('text')!r}")
            else:
                raise OptionsError(
                    f"unknown action {name!r}; use pause, resume, speed, seek, subscribe or unsubscribe"
                )
        except OptionsError as exc:
            return {"type": "error", "action": name, "message": str(exc)}
        info.subscriptions = stream.subscriptions()
        self._changed()
        return None

    def _selection(self, action: dict[str, Any], stream: ReplayStream) -> Any:
        exchange = action.get("exchange") or stream.request.selections[0].exchange
        raw = {
            "exchange": exchange,
            "symbols": action.get("symbols"),
            "dataTypes": action.get("dataTypes"),
            "from": stream.request.from_ts,
            "to": stream.request.to_ts,
        }
        if raw["dataTypes"] is None:
            raise OptionsError('"subscribe" needs "dataTypes"')
        parse_data_types(raw["dataTypes"])
        return resolve(raw, self.catalog).selections[0]


# -- small pieces ------------------------------------------------------------------------------


def _http_chunk(stream: ReplayStream, until: int) -> bytes:
    return enc.ndjson(stream.next_chunk(until))


def _ws_chunk(stream: ReplayStream, until: int) -> bytes:
    return enc.websocket_frames(stream.next_chunk(until))


async def _wait(event: asyncio.Event, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)
    event.clear()


async def _drain(transport: asyncio.BaseTransport, info: ClientInfo, config: ServeConfig, below: int) -> None:
    """Wait until the socket buffer is below ``below`` bytes; close clients that stop reading."""
    write_transport: Any = transport
    started = time.monotonic()
    delay = 0.0005
    while True:
        size = write_transport.get_write_buffer_size()
        info.buffered = size
        if size <= below or transport.is_closing():
            return
        if size > config.max_buffer:
            raise _ClosedError(1008, f"too much backpressure: {size} bytes waiting for the client")
        if time.monotonic() - started > config.stall_timeout_s:
            raise _ClosedError(
                1008, f"client stopped reading: {size} bytes unsent for {config.stall_timeout_s:g} s"
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.01)


async def _close(ws: web.WebSocketResponse, request: web.Request, code: int, reason: str) -> None:
    data = reason.encode()[:MAX_CLOSE_REASON]
    with contextlib.suppress(TimeoutError, ConnectionError):
        await asyncio.wait_for(ws.close(code=code, message=data), 2.0 if code == 1000 else 1.0)
    if code != 1000 and request.transport is not None and not request.transport.is_closing():
        request.transport.abort()


async def _ws_fail(ws: web.WebSocketResponse, message: str) -> None:
    body = json.dumps({"error": message})
    with contextlib.suppress(ConnectionError):
        await ws.send_str(body)
    reason = body.encode()
    if len(reason) > MAX_CLOSE_REASON:
        reason = json.dumps({"error": message[:80] + "…"}).encode()[:MAX_CLOSE_REASON]
    await ws.close(code=1008, message=reason)


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def bind_port_pair(host: str, port: int) -> tuple[socket.socket, socket.socket]:
    """Listening sockets on ``port`` and ``port + 1`` (``port == 0``: the first free pair found)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET

    def bind(p: int) -> socket.socket:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, p))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        return sock

    if port:
        first = bind(port)
        try:
            return first, bind(port + 1)
        except OSError:
            first.close()
            raise
    for _ in range(50):
        first = bind(0)
        p = first.getsockname()[1]
        if p >= 65535:
            first.close()
            continue
        try:
            return first, bind(p + 1)
        except OSError:
            first.close()
    raise OSError("no free pair of neighbouring ports found")
