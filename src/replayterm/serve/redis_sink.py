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

Pacing, pausing and seeking are those of a WebSocket client (``server._Pacer``); this module is
one more sink on that loop, kept apart so it moves as one piece with the server's client loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import partial
from typing import Any

import pyarrow as pa

from replayterm.core.data import format_time, parse_time
from replayterm.serve.catalog import Catalog
from replayterm.serve.options import OptionsError, Request, resolve
from replayterm.serve.server import _Pacer
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


class RedisPublisher:
    """One replay published to Redis, paced like a WebSocket client, controlled over Redis."""

    def __init__(
        self,
        catalog: Catalog,
        config: RedisConfig,
        *,
        app_clock: Any = None,
        executor: Executor | None = None,
        on_change: Callable[[], object] | None = None,
    ) -> None:
        self.catalog = catalog
        self.config = config
        self.app_clock = app_clock
        self.executor = executor
        self.on_change = on_change
        self.request: Request = resolve(config.options or default_options(catalog), catalog)
        self.stream: ReplayStream | None = None
        self.pacer = _Pacer(app_clock)
        self.pacer.paused = config.paused
        self.channels = Channels(config.prefix)
        self.control_channel = f"{config.prefix}replayterm:control"
        self.status_channel = f"{config.prefix}replayterm:status"
        self.published = 0
        self.state = "starting"
        self.error: str | None = None
        self._client: Any = None
        self._wake = asyncio.Event()

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

    # -- the loop ------------------------------------------------------------------------------

    async def _call(self, func: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, func)

    def _new_stream(self) -> ReplayStream:
        stream = ReplayStream(self.request, CHUNK_MESSAGES)
        if self.app_clock is not None:
            stream.seek(max(self.request.from_ts, self.app_clock.ts + 1))
        return stream

    def wake(self) -> None:
        """The app's transport moved (called on the event loop)."""
        self._wake.set()

    async def run(self) -> None:
        """Publish until cancelled; the replay waits at its end for a seek."""
        if self._client is None:
            await self.connect()
        stream = self.stream = await self._call(self._new_stream)
        if self.pacer.speed is None and self.app_clock is None:
            self.pacer.set_speed(self.config.speed, stream.position_ts)
        generation = self.app_clock.generation if self.app_clock is not None else 0
        await self._status("paused" if self.pacer.paused else "playing")
        try:
            while True:
                await self._read_controls(stream)
                if self.app_clock is not None and self.app_clock.generation != generation:
                    generation = self.app_clock.generation
                    await self._seek(stream, self.app_clock.ts + 1)
                if stream.at_end:
                    if self.state != "ended":
                        await self._status("ended")
                    await self._idle(0.05)
                    continue
                target = self.pacer.target(stream.position_ts)
                if target <= stream.position_ts:
                    await self._idle(0.005)
                    continue
                lines = await self._call(partial(stream.next_chunk, target))
                if len(lines):
                    await self._publish(lines)
        finally:
            await self.close()

    async def _seek(self, stream: ReplayStream, ts: int) -> None:
        """Move there and publish the opening messages (the book at that moment) at once, even
        while paused, as a subscriber that arrives then needs them."""
        await self._call(partial(stream.seek, ts))
        lines = await self._call(partial(stream.next_chunk, stream.position_ts))
        if len(lines):
            await self._publish(lines)

    async def _idle(self, timeout: float) -> None:
        """Wait for a control message, the app's clock, or the timeout."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()

    async def _publish(self, lines: pa.StringArray) -> None:
        # A PUBLISH command per message costs redis-py more (packing, one reply each) than Redis
        # itself; one script call per batch publishes the same messages, in the same order.
        channel = self.channels.of
        texts = lines.to_pylist()
        for start in range(0, len(texts), SCRIPT_BATCH):
            args: list[str] = []
            for text in texts[start : start + SCRIPT_BATCH]:
                args += (channel(text), text)
            await self._script(args=args)
        self.published += len(lines)
        if self.on_change is not None:
            self.on_change()

    async def _status(self, state: str) -> None:
        self.state = state
        stream = self.stream
        position = stream.position_ts if stream is not None else self.request.from_ts
        body = {
            "state": state,
            "position": format_time(position),
            "speed": "max" if self.pacer.speed is None else self.pacer.speed,
            "messages": self.published,
        }
        await self._client.publish(self.status_channel, json.dumps(body))
        if self.on_change is not None:
            self.on_change()

    async def _read_controls(self, stream: ReplayStream) -> None:
        while True:
            message = await self._pubsub.get_message(timeout=0)
            if message is None:
                return
            if message.get("type") != "message":
                continue
            try:
                action = json.loads(message["data"])
                if not isinstance(action, dict):
                    raise ValueError
            except ValueError:
                await self._error(f"control messages are JSON objects, got {message['data'][:200]!r}")
                continue
            try:
                await self._control(action, stream)
            except OptionsError as exc:
                await self._error(str(exc), action.get("action"))

    async def _error(self, text: str, action: Any = None) -> None:
        await self._client.publish(
            self.status_channel, json.dumps({"state": "error", "action": action, "message": text})
        )

    async def _control(self, action: dict[str, Any], stream: ReplayStream) -> None:
        name = action.get("action")
        pacer = self.pacer
        if name in ("speed", "seek") and self.app_clock is not None:
            raise OptionsError(f"the app's transport sets the {name} of this replay")
        if name == "pause":
            pacer.paused = True
            await self._status("paused")
        elif name == "resume":
            pacer.paused = False
            pacer.set_speed(pacer.speed, stream.position_ts)
            await self._status("playing")
        elif name == "speed":
            value = action.get("value")
            if value is None or value == "max":
                pacer.set_speed(None, stream.position_ts)
            elif isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                pacer.set_speed(float(value), stream.position_ts)
            else:
                raise OptionsError('"speed" needs "value": a number > 0 (real-time multiple) or "max"')
            await self._status("paused" if pacer.paused else "playing")
        elif name == "seek":
            if "to" not in action:
                raise OptionsError('"seek" needs "to": an ISO-8601 UTC time or µs')
            try:
                ts = parse_time(action["to"])
            except (ValueError, TypeError) as exc:
                raise OptionsError(f'"seek": {exc}') from None
            await self._seek(stream, ts)
            pacer.set_speed(pacer.speed, stream.position_ts)
            await self._status("paused" if pacer.paused else "playing")
        else:
            raise OptionsError(f"unknown action {name!r}; use pause, resume, speed or seek")


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
