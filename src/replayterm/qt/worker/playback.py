"""Pacing of the replay: how far each worker tick goes (DESIGN §4.4).

Paced speeds follow a ``PlaybackClock`` (never past the last event); when a tick cannot apply
everything up to the clock's time within its budget, the replay reports the lag and the clock
waits for it instead of running off. At Max speed each tick applies a batch sized so that the
tick lasts about ``TICK_BUDGET_S``. Qt-free: the worker's timer calls ``tick``.
"""

from __future__ import annotations

import time

from replayterm.core.replay.clock import PlaybackClock
from replayterm.core.session import ReplaySession

TICK_MS = 5
FRAME_INTERVAL_S = 1.0 / 60.0
TICK_BUDGET_S = 0.015  # longest tick: Max speed then applies ~one frame interval of events per tick
MAX_EVENTS_PER_TICK = 2_000_000
MIN_EVENTS_PER_TICK = 64
MAX_FRAMES_IN_FLIGHT = 2  # frames published but not yet received by the GUI
FRAME_OVERDUE_S = 0.25  # publish anyway after this long (a GUI that never says it received one)


class FrameGate:
    """Frames at the GUI's pace: while playing, a frame is published only if fewer than
    ``MAX_FRAMES_IN_FLIGHT`` wait in the GUI's queue (or the last one is overdue). A GUI that
    renders 20 frames a second no longer costs the worker 60 frames a second: the streams of
    the frames not built are carried by the next one anyway. Counts are written by one thread
    each (published: the worker; received: the GUI), so no lock is needed."""

    def __init__(self, enabled: bool = False) -> None:
        self.enabled = enabled
        self.published = 0
        self.received = 0
        self.last_publish = 0.0

    def may_publish(self, now: float) -> bool:
        if not self.enabled:
            return True
        return (
            self.published - self.received < MAX_FRAMES_IN_FLIGHT
            or now - self.last_publish >= FRAME_OVERDUE_S
        )

    def publish(self, now: float) -> None:
        self.published += 1
        self.last_publish = now

    def receive(self) -> None:
        self.received += 1


class Playback:
    def __init__(self) -> None:
        self.clock = PlaybackClock(wall=time.perf_counter)
        self.events_per_tick = 50_000
        self.lag_us = 0
        self.last_frame_wall = 0.0
        self.gate = FrameGate()
        self._rate_window: list[tuple[float, int]] = []

    @property
    def playing(self) -> bool:
        return self.clock.playing

    @property
    def speed(self) -> float:
        return self.clock.speed

    def opened(self, session: ReplaySession) -> None:
        self.clock.set_end(None)
        self.clock.seek(session.now)
        self.clock.set_end(session.end_ts)

    def play(self, session: ReplaySession) -> None:
        self.clock.seek(session.now)
        self.clock.play()
        self._rate_window.clear()

    def pause(self) -> None:
        self.clock.pause()

    def set_speed(self, speed: float, session: ReplaySession | None) -> None:
        if session is not None:
            self.clock.seek(session.now)
        self.clock.set_speed(speed)

    def moved(self, session: ReplaySession) -> None:
        """The replay jumped (seek, re-run): the clock shows where it is now."""
        self.clock.seek(session.now)

    def tick(self, session: ReplaySession) -> float:
        """Apply this tick's events; returns the wall time the tick started."""
        wall = time.perf_counter()
        before = session.position
        if self.clock.is_max:
            self._tick_max_speed(session)
        else:
            self._tick_paced(session)
        self._adapt_batch(session.position - before, time.perf_counter() - wall)
        self._rate_window.append((wall, session.position - before))
        return wall

    def frame_due(self, tick_started: float) -> bool:
        """A frame is due now, or would be later after the next tick than it is early now (at Max
        speed a tick lasts most of a frame interval: checking only its start halves the rate),
        and the GUI has room for it (``FrameGate``)."""
        done = time.perf_counter()
        due = done - self.last_frame_wall >= FRAME_INTERVAL_S - 0.5 * (done - tick_started)
        return due and self.gate.may_publish(done)

    def published(self) -> None:
        self.last_frame_wall = time.perf_counter()
        self.gate.publish(self.last_frame_wall)

    def _tick_paced(self, session: ReplaySession) -> None:
        target = self.clock.now()  # never past the last event
        timeline = session.cursor.timeline
        cap = session.position + self.events_per_tick
        if cap < timeline.n_ready and timeline.ts[cap] <= target:
            # More than one tick's work: apply what fits and report the rest as lag.
            reached = int(timeline.ts[cap - 1])
            session.advance_to(reached)
            self.lag_us = int(target - reached)
            self.clock.seek(reached)  # behind: the clock waits for the replay, it does not run off
            return
        session.advance_to(target)
        self.lag_us = 0

    def _tick_max_speed(self, session: ReplaySession) -> None:
        timeline = session.cursor.timeline
        end_pos = min(session.position + self.events_per_tick, timeline.n_ready)
        if end_pos > session.position:
            session.advance_to(int(timeline.ts[end_pos - 1]))
        self.clock.seek(session.now)
        self.lag_us = 0

    def _adapt_batch(self, applied: int, took: float) -> None:
        """Size the next tick's batch so that it takes about ``TICK_BUDGET_S``."""
        if applied < self.events_per_tick // 2 and took < TICK_BUDGET_S:
            return  # not limited by the batch size this tick: nothing learned
        scale = min(TICK_BUDGET_S / max(took, 1e-4), 2.0)
        self.events_per_tick = int(
            min(MAX_EVENTS_PER_TICK, max(MIN_EVENTS_PER_TICK, self.events_per_tick * scale))
        )

    def events_per_s(self) -> float:
        if not self.playing:
            return 0.0
        now = time.perf_counter()
        window = [(t, n) for t, n in self._rate_window if now - t <= 1.0]
        self._rate_window = window
        if len(window) < 2:
            return 0.0
        span = max(now - window[0][0], 1e-3)
        return sum(n for _, n in window[1:]) / span
