"""Redis fan-out: the replay's normalized messages published to Redis channels.

``replayterm serve FILES --redis redis://…`` (and the app's Serve dialog) runs one
``RedisPublisher`` beside the HTTP/WebSocket server. It replays a tardis-machine options object
(default: every served market, ``trade`` and ``book_change``) through the same ``ReplayStream``
the WebSocket uses, so each message is byte for byte the text a WebSocket client gets, and
publishes it to the channel ``PREFIX + exchange:symbol:type`` (``binance-futures:BTCUSDT:trade``).
A subscriber on the pattern ``PREFIX*:*:*`` (or on several channels of one connection) gets them
in replay order.

Control: the channel ``PREFIX + replayterm:control`` takes the WebSocket's actions as JSON —
``{"action": "pause" | "resume" | "speed" | "seek", …}`` — and every change of state is published
on ``PREFIX + replayterm:status`` (``{"state": "playing" | "paused" | "ended", "position": …,
"speed": …, "messages": …}``), so a subscriber knows where the replay is and when it ended. In
the app the publisher follows the app's transport instead (play, pause, speed and seek of the
main window), like the server's following clients.

The replay is one more client of the server's ``ClientLoop`` (pacing, pause, speed, seek and the
app's transport exactly as for a WebSocket client, the same control actions), with a Redis sink.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from replayterm.core.data import format_time
from replayterm.serve import encode as enc
from replayterm.serve.catalog import Catalog
from replayterm.serve.client import ClientLoop
from replayterm.serve.options import Request, resolve
from replayterm.serve.state import ClientInfo, ServeState
from replayterm.serve.stream import ReplayStream

log = logging.getLogger(__name__)

INSTALL_HINT = "Install the database extra: pip install 'replayterm[db]' (redis-py)"
CHUNK_MESSAGES = 8_192
SCRIPT_BATCH = 1_024
_PUBLISH_ALL = "for i = 1, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end return #ARGV / 2"
_HEAD = re.compile(r'^\{"type":"([^"]+)","symbol":("(?:[^"\\]|\\.)*"),"exchange":("(?:[^"\\]|\\.)*")')


class RedisUnavailableError(RuntimeError):
    """redis-py is missing or the server cannot be reached: the text says which and what to do."""


def default_options(catalog: Catalog) -> list[dict[str, Any]]:
    """Every served market's trades and book changes."""
    return [{"exchange": exchange, "dataTypes": ["trade", "book_change"]} for exchange in catalog.exchanges()]


@dataclass
class RedisConfig:
    url: str
    options: Any = None  # a tardis-machine options object or list; None: ``default_options``
    prefix: str = ""
    speed: float | None = 1.0  # real-time multiple; None = as fast as Redis takes them
    paused: bool = False  # start paused: subscribers connect, then send {"action": "resume"}


class Channels:
    """The channel of each message, read from the head every normalized message starts with."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._known: dict[str, str] = {}

    def of(self, text: str) -> str:
        # The head ends where the field after "exchange" starts; a dict lookup per message.
        cut = text.find(',"', text.find('"exchange":') + 12)
        head = text[:cut]
        channel = self._known.get(head)
        if channel is None:
            match = _HEAD.match(text)
            if match is None:
                return f"{self.prefix}unknown"
            kind, symbol, exchange = match.group(1), json.loads(match.group(2)), json.loads(match.group(3))
            channel = self._known[head] = f"{self.prefix}{exchange}:{symbol}:{kind}"
        return channel


class RedisSink:
    """Where a ``ClientLoop`` writes when its client is Redis: each message to its channel.

    Messages go out one script call per ``SCRIPT_BATCH`` (``interrupted`` is checked between
    calls, so a control acts before anything not yet published); control errors and the end of
    the replay go to the status channel. Redis takes what it is given, so nothing is buffered.
    """

    kind = "redis"

    def __init__(self, publisher: RedisPublisher) -> None:
        self.publisher = publisher

    async def write(self, lines: enc.Lines, interrupted: Callable[[], bool]) -> int:
        texts = lines.text.to_pylist()
        sent = 0
        while sent < len(texts):
            if sent and interrupted():
                return sent
            part = texts[sent : sent + SCRIPT_BATCH]
            await self.publisher.publish(part)
            sent += len(part)
        return sent

    async def reply(self, message: dict[str, Any]) -> None:
        await self.publisher.status("error", action=message.get("action"), message=message.get("message"))

    async def finish(self) -> None:
        await self.publisher.status("ended")

    async def fail(self, code: int, reason: str) -> None:
        await self.publisher.status("error", message=reason)

    def buffered(self) -> int:
        return 0


class _RedisLoop(ClientLoop):
    """The client loop, telling the status channel where it is after every control."""

    publisher: RedisPublisher

    async def _apply_controls(self) -> None:
        await super()._apply_controls()
        await self.publisher.status("paused" if self.pacer.paused else "playing")


class RedisPublisher:
    """One replay published to Redis: a client of the server's loop (``ClientLoop``) whose sink is
    Redis and whose controls come from the control channel."""

    def __init__(self, state: ServeState, config: RedisConfig) -> None:
        self.state = state
        self.config = config
        self.request: Request = resolve(config.options or default_options(state.catalog), state.catalog)
        self.channels = Channels(config.prefix)
        self.control_channel = f"{config.prefix}replayterm:control"
        self.status_channel = f"{config.prefix}replayterm:status"
        self.published = 0
        self.loop: _RedisLoop | None = None
        self.stream: ReplayStream | None = None
        self.error: str | None = None
        self._client: Any = None
        self._pubsub: Any = None

    # -- connection ----------------------------------------------------------------------------

    async def connect(self) -> None:
        """Connect and subscribe to the control channel; raises ``RedisUnavailableError``."""
        try:
            import redis.asyncio as aioredis
        except ImportError:
            raise RedisUnavailableError(
                f"publishing to Redis needs redis-py, not installed. {INSTALL_HINT}"
            ) from None
        try:
            self._client = aioredis.from_url(self.config.url)
            await asyncio.wait_for(self._client.ping(), 10)
            self._script = self._client.register_script(_PUBLISH_ALL)
            self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            await self._pubsub.subscribe(self.control_channel)
        except Exception as exc:  # redis-py's connection, auth and URL errors
            await self.close()
            raise RedisUnavailableError(f"cannot reach Redis at {_redact(self.config.url)}: {exc}") from None

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()

    # -- what the sink and the loop call -------------------------------------------------------

    async def publish(self, texts: list[str]) -> None:
        # A PUBLISH per message costs redis-py more (packing, one reply each) than Redis itself;
        # one script call per batch publishes the same messages, in the same order.
        channel = self.channels.of
        args: list[str] = []
        for text in texts:
            args += (channel(text), text)
        await self._script(args=args)
        self.published += len(texts)

    async def status(self, state: str, **extra: Any) -> None:
        loop = self.loop
        stream = self.stream
        body: dict[str, Any] = {"state": state}
        if stream is not None:
            position = loop.next_ts() if loop is not None else stream.position_ts
            body["position"] = format_time(min(position, stream.request.to_ts))
        if loop is not None:
            speed = loop.pacer.own.speed
            body["speed"] = "max" if loop.pacer.own.is_max else speed
        body["messages"] = self.published
        body.update({k: v for k, v in extra.items() if v is not None})
        if loop is not None:
            loop.info.state = state
        await self._client.publish(self.status_channel, json.dumps(body))
        self.state.changed()

    # -- the replay ----------------------------------------------------------------------------

    def _new_loop(self, stream: ReplayStream, info: ClientInfo | None) -> _RedisLoop:
        if info is None:
            info = ClientInfo(self.state.new_id(), "redis", _redact(self.config.url), stream.subscriptions())
            info.follows_app = self.state.app_clock is not None
        loop = _RedisLoop(self.state, stream, RedisSink(self), info)
        loop.publisher = self
        return loop

    async def run(self) -> None:
        """Publish until cancelled. At the end of a replay at full speed the loop ends (as a
        WebSocket client's does); the next control (a seek) starts a new one on the same stream."""
        if self._client is None:
            await self.connect()
        state = self.state
        stream = self.stream = await state.run(partial(_new_stream, state, self.request))
        loop = self._new_loop(stream, None)
        if state.app_clock is None:
            loop.pacer.set_speed(self.config.speed, stream.position_ts)
        if self.config.paused:
            loop.pacer.pause()
        reader = asyncio.ensure_future(self._read_controls())
        try:
            while True:
                self.loop = loop
                state.register(loop.info, loop)
                await self.status("paused" if loop.pacer.paused else "playing")
                await loop.run()
                # finished (free-running): wait for a control, then go on from where it says
                self._next = asyncio.get_running_loop().create_future()
                action = await self._next
                loop = self._new_loop(stream, loop.info)
                loop.pacer.set_speed(None, stream.position_ts)
                loop.push(action)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            if self.loop is not None:
                self.loop.close()
                state.unregister(self.loop.info)
            await self.close()

    async def _read_controls(self) -> None:
        while True:
            message = await self._pubsub.get_message(timeout=1.0)
            if message is None or message.get("type") != "message":
                continue
            try:
                action = json.loads(message["data"])
                if not isinstance(action, dict):
                    raise ValueError
            except ValueError:
                action = {"__invalid__": bytes(message["data"])[:200].decode(errors="replace")}
            waiting = getattr(self, "_next", None)
            if waiting is not None and not waiting.done():
                waiting.set_result(action)
            elif self.loop is not None:
                self.loop.push(action)


def _new_stream(state: ServeState, request: Request) -> ReplayStream:
    stream = ReplayStream(request, CHUNK_MESSAGES, max_bytes=state.config.chunk_bytes)
    if state.app_clock is not None:
        stream.seek(max(request.from_ts, state.app_clock.anchor_ts + 1))
    return stream


def parse_speed(text: str) -> float | None:
    """``max`` or a number > 0 (real-time multiple); raises ValueError."""
    if text.strip().lower() == "max":
        return None
    value = float(text)
    if not value > 0:
        raise ValueError(f"speed must be > 0 or 'max', got {text!r}")
    return value


def _redact(url: str) -> str:
    from replayterm.core.data.postgres.query import redact

    return redact(url)
