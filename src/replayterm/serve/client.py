"""One client's replay loop, the same for HTTP and WebSocket: produce, pace, apply controls, write.

``ClientLoop`` pulls chunks of encoded messages from its ``ReplayStream`` (on the server's
threads), keeps the ones not yet written as ``pending`` and hands what is due to its ``Sink``.
Controls (WebSocket) and the app's transport interrupt the sink between messages, so they act
before anything not yet written: a seek drops the pending lines, a pause keeps them for later,
an unsubscribe filters them, a subscribe merges the new types' messages into them.

Every wait is on an event (a control, the app's transport, the socket draining) or until the
moment the next message is due: a paused client costs no wake-up at all (``wakeups`` counts
them, for the test that says so).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from functools import partial
from typing import Any

import numpy as np

from replayterm.core.replay.clock import PlaybackClock
from replayterm.serve import control
from replayterm.serve import encode as enc
from replayterm.serve.sinks import Sink, StalledError
from replayterm.serve.state import AppClock, ClientInfo, ServeState, wall_at
from replayterm.serve.stream import END, ReplayStream

log = logging.getLogger(__name__)


class Pacer:
    """Up to which receive time messages may go now: all (free), real time x speed, the app's clock.

    A client's own pace is a ``PlaybackClock`` playing at Max until it asks for a speed; when it
    follows the app, the app's clock decides (and the client's own only holds its pause).
    """

    def __init__(self, app_clock: AppClock | None) -> None:
        self.app_clock = app_clock
        self.own = PlaybackClock(playing=True, speed=math.inf)

    @property
    def paused(self) -> bool:
        return not self.own.playing

    @property
    def free(self) -> bool:
        return self.app_clock is None and self.own.is_max and self.own.playing

    def pause(self) -> None:
        self.own.pause()

    def resume(self, position_ts: int) -> None:
        self.own.seek(position_ts)
        self.own.play()

    def set_speed(self, speed: float | None, position_ts: int) -> None:
        self.own.seek(position_ts)
        self.own.set_speed(math.inf if speed is None else speed)

    def anchor(self, position_ts: int) -> None:
        self.own.seek(position_ts)

    def target(self) -> int:
        """Messages received before this may be sent now."""
        if self.paused:
            return -1
        if self.app_clock is not None:
            return self.app_clock.now() + 1
        return END if self.own.is_max else self.own.now()

    def due(self, ts: int) -> float | None:
        """Monotonic time at which a message received at ``ts`` may go (None: only after an event)."""
        if self.paused:
            return None
        if self.app_clock is not None:
            return wall_at(self.app_clock, ts)
        if self.own.is_max:
            return time.monotonic()
        return wall_at(self.own, ts + 1)


class ClientLoop:
    def __init__(self, state: ServeState, stream: ReplayStream, sink: Sink, info: ClientInfo) -> None:
        self.state = state
        self.stream = stream
        self.sink = sink
        self.info = info
        self.pacer = Pacer(state.app_clock)
        self.follows_app = state.app_clock is not None
        self.generation = state.app_clock.generation if state.app_clock else 0
        self.pending: enc.Lines = enc.NO_LINES
        self.controls: deque[dict[str, Any]] = deque()
        self.wakeups = 0
        self._event = asyncio.Event()
        self._prefetch: asyncio.Future[enc.Lines] | None = None
        self._closed = False

    # -- from outside ------------------------------------------------------------------------

    def push(self, action: dict[str, Any]) -> None:
        """A control from the client; applied before the next message is written."""
        self.controls.append(action)
        self._event.set()

    def close(self) -> None:
        """The client went away (or the server shuts down): end the loop."""
        self._closed = True
        self._event.set()

    def wake(self) -> None:
        self._event.set()

    # -- for the control actions -------------------------------------------------------------

    def next_ts(self) -> int:
        """Receive time of the next message the client will get."""
        return int(self.pending.local_ts[0]) if len(self.pending) else self.stream.position_ts

    async def seek(self, ts: int) -> None:
        await self._settle()
        self.pending = enc.NO_LINES
        await self.state.run(partial(self.stream.seek, ts))

    def merge_pending(self, lines: enc.Lines) -> None:
        self.pending = enc.merge([self.pending, lines])

    def filter_pending(self) -> None:
        if len(self.pending):
            self.pending = self.pending.take(self.stream.still_subscribed(self.pending))
        self.info.subscriptions = self.stream.subscriptions()

    # -- the loop ----------------------------------------------------------------------------

    async def run(self) -> None:
        try:
            await self._run()
        except StalledError as stalled:
            self.info.state = f"closed: {stalled}"
            log.warning("client %d closed: %s", self.info.id, stalled)
            await self.sink.fail(1008, str(stalled))
        finally:
            await self._settle()

    async def _run(self) -> None:
        while not self._closed:
            if self.controls:
                await self._apply_controls()
                continue
            clock = self.state.app_clock
            if clock is not None and clock.generation != self.generation:
                self.generation = clock.generation
                await self.seek(clock.anchor_ts + 1)
                continue
            self.info.state = "paused" if self.pacer.paused else "streaming"
            target = self.pacer.target()
            self.info.target_ts = target
            if not len(self.pending):
                if self._prefetch is not None:
                    await self._settle()
                    continue
                if self.stream.at_end:
                    if self.pacer.free:
                        await self.sink.finish()  # like tardis-machine: close once everything is sent
                        return
                    await self._sleep(None)
                    continue
                if target <= self.stream.position_ts:
                    await self._sleep(self.pacer.due(self.stream.position_ts))
                    continue
                self.pending = await self.state.run(partial(self.stream.next_chunk, target))
                continue
            due = len(self.pending) if target >= END else int(np.searchsorted(self.pending.local_ts, target))
            if due == 0:
                await self._sleep(self.pacer.due(int(self.pending.local_ts[0])))
                continue
            if self.pacer.free and self._prefetch is None and not self.stream.at_end:
                # encode the next chunk while this one goes out
                self._prefetch = asyncio.ensure_future(self.state.run(partial(self.stream.next_chunk, END)))
            batch = self.pending.slice(0, due)
            sent = await self.sink.write(batch, self._interrupted)
            self._account(batch, sent)
            self.pending = self.pending.slice(sent)
            if sent == 0 and not self._interrupted():
                return  # the connection is closing

    def _interrupted(self) -> bool:
        if self.controls or self._closed:
            return True
        clock = self.state.app_clock
        return clock is not None and clock.generation != self.generation

    def _account(self, batch: enc.Lines, sent: int) -> None:
        info = self.info
        info.messages += sent
        info.bytes += batch.slice(0, sent).nbytes
        info.position_ts = int(batch.local_ts[sent - 1]) if sent else info.position_ts
        info.buffered = self.sink.buffered()

    async def _apply_controls(self) -> None:
        await self._settle()
        while self.controls:
            action = self.controls.popleft()
            reply = await control.apply(self, action)
            if reply is not None:
                await self.sink.reply(reply)
            self.info.subscriptions = self.stream.subscriptions()
            self.state.changed()

    async def _settle(self) -> None:
        """Wait for a chunk being encoded in the background; its lines join the pending ones."""
        prefetch, self._prefetch = self._prefetch, None
        if prefetch is None:
            return
        try:
            lines = await prefetch
        except asyncio.CancelledError:
            prefetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await prefetch
            raise
        self.pending = enc.concat([self.pending, lines])

    async def _sleep(self, until: float | None) -> None:
        """Wait for an event, or until the monotonic time ``until``."""
        if not self._event.is_set():
            if until is None:
                await self._event.wait()
            else:
                delay = until - time.monotonic()
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._event.wait(), delay)
                else:
                    await asyncio.sleep(0)
        self._event.clear()
        self.wakeups += 1
