"""``ReplayWorker``: the one object that owns the replay, living in its own ``QThread``.

DESIGN §4: the GUI thread only renders. Commands arrive as queued signals connected to the
slots below; results leave as ``Frame`` objects (latest state + appended streams), at most one per
display refresh. Every seek or open bumps the generation so stale frames can be dropped. The only
method safe to call directly from another thread is ``request_cancel`` (it sets a flag that the
long-running open checks between batches).
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, QTimer, Signal, Slot

from replayterm.core.data import Cancelled, DataError, open_sources
from replayterm.core.replay.cursor import ReplayCursor
from replayterm.core.replay.frames import FrameBuilder
from replayterm.core.replay.instruments import build_instruments

log = logging.getLogger(__name__)

TICK_MS = 5
FRAME_INTERVAL_S = 1.0 / 60.0
MAX_SPEED_TICK_BUDGET_S = 0.012
MAX_EVENTS_PER_TICK = 2_000_000
MIN_EVENTS_PER_TICK = 64

F = TypeVar("F", bound=Callable[..., Any])


def guarded(method: F) -> F:
    """Turn any exception in a worker slot into a ``failed`` signal instead of a dead thread."""

    @functools.wraps(method)
    def wrapper(self: ReplayWorker, *args: Any) -> Any:
        try:
            return method(self, *args)
        except Exception as exc:
            log.exception("replay worker: %s failed", method.__name__)
            self._pause_quietly()
            self.failed.emit(f"Replay error in {method.__name__}", f"{exc}\n\n{traceback.format_exc()}")
            return None

    return wrapper  # type: ignore[return-value]


@dataclass(frozen=True)
class OpenedInfo:
    """What the GUI needs to know about newly opened data."""

    paths: list[str]
    instruments: list[str]
    start_ts: int
    end_ts: int
    gaps: list[int]
    warnings: list[str] = field(default_factory=list)
    events: int = 0


class ReplayWorker(QObject):
    frame_ready = Signal(object)
    open_progress = Signal(float, str)
    opened = Signal(object)
    open_failed = Signal(str)
    open_cancelled = Signal()
    failed = Signal(str, str)
    state_changed = Signal(bool, float)  # playing, speed

    def __init__(self) -> None:
        super().__init__()
        self._cancel = threading.Event()
        self._timer: QTimer | None = None
        self.cursor: ReplayCursor | None = None
        self.builder: FrameBuilder | None = None
        self.generation = 0
        self.playing = False
        self.speed = 1.0
        self._sim_clock = 0.0
        self._last_wall = 0.0
        self._last_frame_wall = 0.0
        self._events_per_tick = 50_000
        self._rate_window: list[tuple[float, int]] = []
        self._lag_us = 0
        self._reset_pending = True

    # -- thread-safe -------------------------------------------------------------------------

    def request_cancel(self) -> None:
        """Ask a running open to stop (safe from any thread)."""
        self._cancel.set()

    # -- slots (run in the worker thread) -----------------------------------------------------

    @Slot()
    def start(self) -> None:
        """Called once the thread runs: timers must be created in the thread that uses them."""
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    @Slot()
    def shutdown(self) -> None:
        self._pause_quietly()
        if self._timer is not None:
            self._timer.timeout.disconnect(self._tick)
            self._timer.deleteLater()
            self._timer = None

    @Slot(list)
    @guarded
    def open(self, paths: Sequence[str]) -> None:
        self._pause_quietly()
        self._cancel.clear()
        progress = self.open_progress.emit
        try:
            sources = open_sources(
                list(paths),
                progress=lambda f, msg: progress(0.6 * f, msg),
                cancel=self._cancel.is_set,
            )
            if not sources or not any(s.rows for s in sources):
                raise DataError(", ".join(map(str, paths)), "no rows to replay", hint="Open a non-empty file")
            instruments = build_instruments(
                sources,
                progress=lambda f, msg: progress(0.6 + 0.4 * f, msg),
                cancel=self._cancel.is_set,
            )
            if not instruments:
                raise DataError(
                    ", ".join(map(str, paths)),
                    "no book or trades to replay in these files",
                    hint="Open an incremental_book_L2, book_snapshot_N or trades file",
                )
        except Exception as exc:
            if _is_cancel(exc):
                self.open_cancelled.emit()
                return
            # The replay that was open stays open: nothing the user had is lost.
            text = str(exc) if isinstance(exc, DataError) else f"{exc}\n\n{traceback.format_exc()}"
            self.open_failed.emit(text)
            return
        cursor = ReplayCursor(instruments)
        cursor.seek(cursor.start_ts)
        self.cursor = cursor
        self.builder = FrameBuilder(cursor, 0)
        self._sim_clock = float(cursor.now)
        self.generation += 1
        warnings = [w for s in sources for w in s.warnings] + [n for i in instruments for n in i.notes]
        self.opened.emit(
            OpenedInfo(
                paths=[str(p) for p in paths],
                instruments=[i.name for i in instruments],
                start_ts=cursor.start_ts,
                end_ts=cursor.end_ts,
                gaps=[int(g) for g in cursor.gaps()],
                warnings=warnings,
                events=cursor.n_events,
            )
        )
        self._publish(reset=True)

    @Slot()
    @guarded
    def play(self) -> None:
        if self.cursor is None or self._timer is None:
            return
        if self.cursor.at_end:
            self.cursor.seek(self.cursor.start_ts)
            self.generation += 1
            self._reset_pending = True
        self.playing = True
        self._sim_clock = float(self.cursor.now)
        self._last_wall = time.perf_counter()
        self._rate_window.clear()
        self._timer.start()
        self.state_changed.emit(True, self.speed)

    @Slot()
    @guarded
    def pause(self) -> None:
        self._pause_quietly()
        self._publish()

    @Slot(float)
    @guarded
    def set_speed(self, speed: float) -> None:
        self.speed = float(speed) if speed > 0 else 1.0
        if self.cursor is not None:
            self._sim_clock = float(self.cursor.now)
        self._last_wall = time.perf_counter()
        self.state_changed.emit(self.playing, self.speed)

    @Slot()
    @guarded
    def step_message(self) -> None:
        if self.cursor is not None:
            self._pause_quietly()
            self.cursor.step_message(instrument=self.builder.instrument if self.builder else None)
            self._publish()

    @Slot()
    @guarded
    def step_trade(self) -> None:
        if self.cursor is not None:
            self._pause_quietly()
            self.cursor.step_trade(instrument=self.builder.instrument if self.builder else None)
            self._publish()

    @Slot("qint64")
    @guarded
    def seek(self, ts: int) -> None:
        if self.cursor is None:
            return
        self.cursor.seek(int(ts))
        self._sim_clock = float(self.cursor.now)
        self._last_wall = time.perf_counter()
        self.generation += 1
        self._publish(reset=True)

    # -- playback -----------------------------------------------------------------------------

    @guarded
    def _tick(self) -> None:
        cursor = self.cursor
        if cursor is None or not self.playing:
            return
        wall = time.perf_counter()
        elapsed = wall - self._last_wall
        self._last_wall = wall
        before = cursor.position
        if math.isinf(self.speed):
            self._tick_max_speed(cursor)
        else:
            self._tick_paced(cursor, elapsed)
        applied = cursor.position - before
        self._rate_window.append((wall, applied))
        if cursor.at_end:
            self._pause_quietly()
            self._publish()
            return
        if wall - self._last_frame_wall >= FRAME_INTERVAL_S:
            self._publish()

    def _tick_paced(self, cursor: ReplayCursor, elapsed: float) -> None:
        target = self._sim_clock + elapsed * 1e6 * self.speed
        cap = cursor.position + MAX_EVENTS_PER_TICK
        if cap < cursor.n_events and cursor.timeline.ts[cap] <= target:
            # Too much to do in one tick: apply what fits and report the rest as lag.
            reached = int(cursor.timeline.ts[cap - 1])
            cursor.advance_to(reached)
            self._lag_us = int(target - reached)
            self._sim_clock = float(reached)
            return
        cursor.advance_to(int(target))
        self._lag_us = 0
        self._sim_clock = target

    def _tick_max_speed(self, cursor: ReplayCursor) -> None:
        """As many events as fit in the tick's time budget, adapting the batch size."""
        start = time.perf_counter()
        end_pos = min(cursor.position + self._events_per_tick, cursor.n_events)
        if end_pos > cursor.position:
            cursor.advance_to(int(cursor.timeline.ts[end_pos - 1]))
        took = time.perf_counter() - start
        scale = MAX_SPEED_TICK_BUDGET_S / max(took, 1e-4)
        self._events_per_tick = int(
            min(MAX_EVENTS_PER_TICK, max(MIN_EVENTS_PER_TICK, self._events_per_tick * min(scale, 2.0)))
        )
        self._sim_clock = float(cursor.now)
        self._lag_us = 0

    def _events_per_s(self) -> float:
        now = time.perf_counter()
        window = [(t, n) for t, n in self._rate_window if now - t <= 1.0]
        self._rate_window = window
        if len(window) < 2:
            return 0.0
        span = max(now - window[0][0], 1e-3)
        return sum(n for _, n in window[1:]) / span

    def _pause_quietly(self) -> None:
        self.playing = False
        if self._timer is not None:
            self._timer.stop()
        self.state_changed.emit(False, self.speed)

    def _publish(self, reset: bool = False) -> None:
        if self.builder is None:
            return
        reset = reset or self._reset_pending
        self._reset_pending = False
        frame = self.builder.frame(
            self.generation,
            reset=reset,
            playing=self.playing,
            speed=self.speed,
            events_per_s=self._events_per_s() if self.playing else 0.0,
            lag_us=self._lag_us,
        )
        self._last_frame_wall = time.perf_counter()
        self.frame_ready.emit(frame)


def _is_cancel(exc: BaseException) -> bool:
    from replayterm.core.book import Cancelled as BookCancelled

    return isinstance(exc, Cancelled | BookCancelled)


def start_worker(worker: ReplayWorker) -> QThread:
    """Move ``worker`` to a new thread and start it (its timers are created there)."""
    thread = QThread()
    thread.setObjectName("replay-worker")
    worker.moveToThread(thread)
    thread.started.connect(worker.start)
    thread.start()
    return thread


def stop_worker(worker: ReplayWorker, thread: QThread, timeout_ms: int = 10_000) -> bool:
    """Close = stop the worker in its own thread, ``quit()``, ``wait()``; True when the thread ended."""
    worker.request_cancel()
    if thread.isRunning():
        QMetaObject.invokeMethod(worker, "shutdown", Qt.ConnectionType.BlockingQueuedConnection)
    thread.quit()
    return thread.wait(timeout_ms)
