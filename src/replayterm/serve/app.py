"""The aiohttp applications: tardis-machine's routes on two ports, built by ``create_apps``.

- ``GET /replay-normalized?options=…`` (HTTP port): NDJSON, as fast as the client reads.
- ``/ws-replay-normalized?options=…`` (WebSocket port = HTTP port + 1): one message per frame;
  the client may send ``{"action": "pause" | "resume" | "speed" | "seek" | "subscribe" |
  "unsubscribe", …}`` (see ``control``).
- ``GET /health-check`` on both ports.

Both applications carry one ``ServeState`` under the typed key ``STATE``. The HTTP
application's ``cleanup_ctx`` owns the thread pool that encodes every client's messages (the
event loop only moves bytes); ``on_shutdown`` ends every client's loop and closes WebSockets
with 1001, so a server stops promptly with clients connected.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from replayterm.serve.client import ClientLoop
from replayterm.serve.options import OptionsError, Request, parse_options
from replayterm.serve.sinks import MAX_CLOSE_REASON, HttpSink, Sink, WebSocketSink
from replayterm.serve.state import ClientInfo, ServeState
from replayterm.serve.stream import ReplayStream

STATE = web.AppKey("replayterm_serve_state", ServeState)
WEBSOCKETS = web.AppKey("replayterm_serve_websockets", set[web.WebSocketResponse])


def create_apps(state: ServeState) -> tuple[web.Application, web.Application]:
    """The HTTP application (port P) and the WebSocket one (port P + 1), sharing ``state``."""
    http = web.Application(middlewares=[_auth])
    http[STATE] = state
    http.router.add_get("/replay-normalized", http_replay)
    http.router.add_get("/health-check", health)
    http.cleanup_ctx.append(_thread_pool)
    http.on_shutdown.append(_end_clients)
    ws = web.Application(middlewares=[_auth])
    ws[STATE] = state
    ws[WEBSOCKETS] = set()
    ws.router.add_get("/ws-replay-normalized", ws_replay)
    ws.router.add_get("/health-check", health)
    ws.on_shutdown.append(_end_clients)
    return http, ws


async def _thread_pool(app: web.Application) -> AsyncIterator[None]:
    state = app[STATE]
    state.executor = ThreadPoolExecutor(max_workers=state.config.workers, thread_name_prefix="serve-encode")
    yield
    executor, state.executor = state.executor, None
    executor.shutdown(wait=False, cancel_futures=True)


async def _end_clients(app: web.Application) -> None:
    state = app[STATE]
    for loop in list(state.loops.values()):
        loop.close()
    for ws in list(app.get(WEBSOCKETS, ())):
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown"), 1.0)


@web.middleware
async def _auth(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
    token = request.app[STATE].config.token
    if token:
        given = request.query.get("token") or request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given.encode(), token.encode()):
            return _json_error(401, "missing or wrong token (pass ?token=… or 'Authorization: Bearer …')")
    result: web.StreamResponse = await handler(request)
    return result


async def health(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response({"status": "ok", "clients": len(state.clients), "span": state.catalog.span})


def _new_stream(state: ServeState, req: Request, budget: int) -> ReplayStream:
    stream = ReplayStream(req, budget, max_bytes=state.config.chunk_bytes)
    if state.app_clock is not None:
        stream.seek(max(req.from_ts, state.app_clock.anchor_ts + 1))
    return stream


def _serve(state: ServeState, request: web.Request, stream: ReplayStream, sink: Sink) -> ClientLoop:
    info = ClientInfo(state.new_id(), sink.kind, str(request.remote), stream.subscriptions())
    info.follows_app = state.app_clock is not None
    loop = ClientLoop(state, stream, sink, info)
    state.register(info, loop)
    return loop


async def http_replay(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    try:
        req = parse_options(request.query.get("options"), state.catalog)
    except OptionsError as exc:
        return _json_error(400, str(exc))
    stream = await state.run(partial(_new_stream, state, req, state.config.http_budget))
    response = web.StreamResponse(headers={"Content-Type": "application/x-json-stream"})
    await response.prepare(request)
    cfg = state.config
    sink = HttpSink(request, response, cfg.high_water, cfg.write_bytes, cfg.stall_timeout_s)
    loop = _serve(state, request, stream, sink)
    try:
        await loop.run()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        state.unregister(loop.info)
    return response


async def ws_replay(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    ws = web.WebSocketResponse(max_msg_size=state.config.max_inbound, compress=False, heartbeat=30.0)
    await ws.prepare(request)
    try:
        req = parse_options(request.query.get("options"), state.catalog)
    except OptionsError as exc:
        await _ws_fail(ws, str(exc))
        return ws
    stream = await state.run(partial(_new_stream, state, req, state.config.ws_budget))
    sockets = request.app[WEBSOCKETS]
    sockets.add(ws)
    sink = WebSocketSink(request, ws, state.config.high_water, state.config.stall_timeout_s)
    loop = _serve(state, request, stream, sink)
    if req.speed is not None and not loop.follows_app:  # "speed" in the options: paced from the start
        loop.pacer.set_speed(req.speed, stream.position_ts)
    reader = asyncio.create_task(_read_controls(ws, loop))
    try:
        await loop.run()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reader
        sockets.discard(ws)
        state.unregister(loop.info)
    return ws


async def _read_controls(ws: web.WebSocketResponse, loop: ClientLoop) -> None:
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            try:
                action = json.loads(msg.data)
                if not isinstance(action, dict):
                    raise ValueError
            except ValueError:
                action = {"__invalid__": msg.data[:200]}
            loop.push(action)
    loop.close()


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
