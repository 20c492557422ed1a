"""``ReplayWorker``: the one object that owns the replay session, living in its own ``QThread``.

The GUI thread only renders. Commands arrive as queued signals connected to the
slots below; results leave as ``Frame`` objects (latest state + appended streams), at most one per
display refresh. Every seek or open bumps the generation so stale frames can be dropped. The only
methods safe to call directly from another thread are ``request_cancel`` (a flag that long opens,
seeks and strategy catch-ups check between batches) and ``request_abort_callback`` (stops a
strategy callback that hangs).

The threading rules: docs/architecture.md, "Threading".
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
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from replayterm.core.data import Cancelled, DataError, open_sources
from replayterm.core.replay.clock import PlaybackClock
from replayterm.core.replay.frames import FrameBuilder
from replayterm.core.replay.indexing import IndexJob, warm_up
from replayterm.core.replay.instruments import build_instruments
from replayterm.core.session import ReplaySession, SessionSettings, StrategyHandle
from replayterm.core.session.export import write_results
from replayterm.core.session.streams import StrategyStreams
from replayterm.core.strategy import StrategyLoadError

log = logging.getLogger(__name__)

TICK_MS = 5
FRAME_INTERVAL_S = 1.0 / 60.0
TICK_BUDGET_S = 0.015  # longest tick: Max speed then applies ~one frame interval of events per tick
MAX_EVENTS_PER_TICK = 2_000_000
MIN_EVENTS_PER_TICK = 64
INDEX_STEP_ROWS = 1 << 19  # rows indexed per worker turn while a big open finishes (~10-30 ms)
INDEX_REPORT_S = 0.1

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
    focus: int = 0
    # BBO check (L2 + book_ticker of one instrument): a line per instrument and mismatch times.
    checks: list[str] = field(default_factory=list)
    bbo_mismatches: list[int] = field(default_factory=list)
    days: list[int] = field(default_factory=list)  # where each further file (day) begins
    indexing: bool = False  # the rest is still being indexed (see ``index_progress``)


class ReplayWorker(QObject):
    frame_ready = Signal(object)
    open_progress = Signal(float, str)
    opened = Signal(object)
    open_failed = Signal(str)
    open_cancelled = Signal()
    failed = Signal(str, str)
    state_changed = Signal(bool, float)  # playing, speed
    busy = Signal(float, str)  # progress of a long seek or strategy start; fraction < 0 = done
    strategies_changed = Signal(list)  # list[StrategyInfo]
    strategy_failed = Signal(str, str)  # title, text (load errors, bad parameters)
    execution_changed = Signal(object)  # dict: "report" (summary.json's execution), "notes" (warnings)
    exported = Signal(str)  # folder the results were written to
    # While a big open is indexed in the background: fraction, time up to which the replay is
    # usable, the time a seek waits for (-1: none). Fraction 1 = done, < 0 = indexing stopped.
    index_progress = Signal(float, object, object)
    gaps_changed = Signal(list)

    def __init__(self, settings: SessionSettings | None = None) -> None:
        super().__init__()
        self._cancel = threading.Event()
        self._timer: QTimer | None = None
        self.settings = settings if settings is not None else SessionSettings()
        self.session: ReplaySession | None = None
        self.builder: FrameBuilder | None = None
        self.depth_reach = 0  # ticks from the touch every frame covers (see set_depth_reach)
        self.streams = StrategyStreams()
        self.generation = 0
        self.clock = PlaybackClock(wall=time.perf_counter)
        self._last_frame_wall = 0.0
        self._events_per_tick = 50_000
        self._rate_window: list[tuple[float, int]] = []
        self._lag_us = 0
        self._reset_pending = True
        self._paths: list[str] = []
        self._index_timer: QTimer | None = None
        self._index_job: IndexJob | None = None
        self._pending_seek: int | None = None
        self._index_reported = 0.0

    # -- thread-safe -------------------------------------------------------------------------

    def request_cancel(self) -> None:
        """Ask a running open, seek or strategy start to stop (safe from any thread)."""
        self._cancel.set()

    def request_abort_callback(self) -> bool:
        """Stop the strategy callback running now, if any (safe from any thread)."""
        session = self.session
        return session.abort_current_callback() if session is not None else False

    # -- slots (run in the worker thread) -----------------------------------------------------

    @Slot()
    def start(self) -> None:
        """Called once the thread runs: timers must be created in the thread that uses them."""
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._index_timer = QTimer(self)
        self._index_timer.setInterval(0)
        self._index_timer.timeout.connect(self._index_tick)
        warm_up()  # compiled kernels loaded now, not at the user's first open

    @Slot()
    def shutdown(self) -> None:
        self._stop_indexing(discard=True)
        self._pause_quietly()
        if self._timer is not None:
            self._timer.timeout.disconnect(self._tick)
            self._timer.deleteLater()
            self._timer = None
        if self._index_timer is not None:
            self._index_timer.timeout.disconnect(self._index_tick)
            self._index_timer.deleteLater()
            self._index_timer = None
        if self.session is not None:
            self.session.close()

    @Slot(list)
    @guarded
    def open(self, paths: Sequence[str]) -> None:
        self._pause_quietly()
        self._cancel.clear()
        job = None
        progress = self.open_progress.emit
        try:
            sources = open_sources(
                list(paths),
                progress=lambda f, msg: progress(0.6 * f, msg),
                cancel=self._cancel.is_set,
            )
            if not sources or not any(s.rows for s in sources):
                raise DataError(", ".join(map(str, paths)), "no rows to replay", hint="Open a non-empty file")
            # The first part is indexed now; the rest in the background (``_index_tick``), with
            # play and seek working in the indexed part meanwhile.
            instruments = build_instruments(
                sources,
                progress=lambda f, msg: progress(0.6 + 0.4 * f, msg),
                cancel=self._cancel.is_set,
                progressive=True,
            )
            job = getattr(instruments, "job", None)
            if not instruments:
                raise DataError(
                    ", ".join(map(str, paths)),
                    "no book or trades to replay in these files",
                    hint="Open an incremental_book_L2, book_snapshot_N or trades file",
                )
        except Exception as exc:
            if job is not None:
                job.discard()
            if isinstance(exc, Cancelled):
                self.open_cancelled.emit()
                return
            # The replay that was open stays open: nothing the user had is lost.
            text = str(exc) if isinstance(exc, DataError) else f"{exc}\n\n{traceback.format_exc()}"
            self.open_failed.emit(text)
            return
        previous = self.session
        self._stop_indexing(discard=True)
        session = ReplaySession(instruments, self.settings)
        session.cursor.seek(session.start_ts)
        self.session = session
        self._paths = [str(p) for p in paths]
        self.builder = FrameBuilder(session.cursor, session.focus)
        self.builder.reach_ticks = self.depth_reach
        self.streams.forget()
        self.clock.set_end(None)
        self.clock.seek(session.now)
        self.clock.set_end(session.end_ts)
        self.generation += 1
        cursor = session.cursor
        warnings = [w for s in sources for w in s.warnings] + session.data_notes()
        checks = session.bbo_checks()
        self.opened.emit(
            OpenedInfo(
                paths=[str(p) for p in paths],
                instruments=[i.name for i in instruments],
                start_ts=cursor.start_ts,
                end_ts=cursor.end_ts,
                gaps=[int(g) for g in cursor.gaps()],
                warnings=warnings,
                events=cursor.n_events,
                focus=session.focus,
                checks=[c.summary_line() for c in checks],
                bbo_mismatches=[int(t) for c in checks for t in c.mismatch_ts[:5000]],
                days=[int(d) for d in cursor.file_starts()],
                indexing=job is not None,
            )
        )
        if previous is not None:
            self._carry_strategies(previous, session)
            previous.close()
        self._emit_execution()
        self._emit_strategies()
        self._publish(reset=True)
        if job is not None and self._index_timer is not None:
            self._index_job = job
            self._index_reported = 0.0
            self._index_timer.start()
            self._report_index(force=True)

    # -- background indexing of a big open ------------------------------------------------------

    @guarded
    def _index_tick(self) -> None:
        job, session = self._index_job, self.session
        if job is None or session is None:
            self._stop_indexing()
            return
        if self._cancel.is_set():
            self._cancel.clear()
            if self._pending_seek is not None:  # Cancel drops the waiting seek; indexing goes on
                self._pending_seek = None
                self._report_index(force=True)
                return
            self._stop_indexing(discard=True)  # Cancel with nothing waiting stops indexing
            self.index_progress.emit(-1.0, session.cursor.ready_ts, -1)
            return
        try:
            done = job.step(INDEX_STEP_ROWS)
        except Exception:
            self._stop_indexing()  # the job removed its files; the indexed part stays usable
            self.index_progress.emit(-1.0, session.cursor.ready_ts, -1)
            raise
        pending = self._pending_seek
        if pending is not None and (done or session.cursor.ready_ts >= pending):
            self._pending_seek = None
            self._seek_now(pending)
        if done:
            self._stop_indexing()
            self.gaps_changed.emit([int(g) for g in session.cursor.gaps()])
            self.index_progress.emit(1.0, session.end_ts, -1)
            if not self.playing:
                self._publish()
            return
        self._report_index()

    def _report_index(self, force: bool = False) -> None:
        job, session = self._index_job, self.session
        now = time.perf_counter()
        if job is None or session is None or (not force and now - self._index_reported < INDEX_REPORT_S):
            return
        self._index_reported = now
        waiting = -1 if self._pending_seek is None else self._pending_seek
        self.index_progress.emit(job.fraction, session.cursor.ready_ts, waiting)

    def _stop_indexing(self, discard: bool = False) -> None:
        if self._index_timer is not None:
            self._index_timer.stop()
        if discard and self._index_job is not None:
            self._index_job.discard()
        self._index_job = None
        self._pending_seek = None
        if self.session is not None:
            self.session.index_job = None

    @Slot()
    @guarded
    def play(self) -> None:
        if self.session is None or self._timer is None:
            return
        if self.session.at_end:
            self._long(lambda p, c: self.session.seek(self.session.start_ts, progress=p, cancel=c))  # type: ignore[union-attr]
            self.generation += 1
            self._reset_pending = True
        self.clock.seek(self.session.now)
        self.clock.play()
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
        if self.session is not None:
            self.clock.seek(self.session.now)
        self.clock.set_speed(speed)
        self.state_changed.emit(self.playing, self.speed)

    @Slot()
    @guarded
    def step_message(self) -> None:
        if self.session is not None:
            self._pause_quietly()
            self.session.step_message(self.builder.instrument if self.builder else None)
            self._publish()

    @Slot()
    @guarded
    def step_trade(self) -> None:
        if self.session is not None:
            self._pause_quietly()
            self.session.step_trade(self.builder.instrument if self.builder else None)
            self._publish()

    @Slot(int)
    @guarded
    def set_depth_reach(self, ticks: int) -> None:
        """Frames carry every level within ``ticks`` of the touch (the views' coarsest grouping
        times the rows they show), besides the top levels."""
        self.depth_reach = max(0, int(ticks))
        if self.builder is not None:
            self.builder.reach_ticks = self.depth_reach
            self._publish()

    @Slot("qint64")
    @guarded
    def seek(self, ts: int) -> None:
        session = self.session
        if session is None:
            return
        if self._index_job is not None and int(ts) > session.cursor.ready_ts:
            # Beyond the indexed part: wait for it (progress shown, Cancel drops the seek).
            self._pause_quietly()
            self._pending_seek = int(ts)
            self._report_index(force=True)
            self._publish()  # an answer, so the GUI knows the worker is alive while the seek waits
            return
        self._pending_seek = None
        self._seek_now(int(ts))

    def _seek_now(self, ts: int) -> None:
        session = self.session
        assert session is not None
        self._long(lambda p, c: session.seek(int(ts), progress=p, cancel=c))
        self.clock.seek(session.now)
        self.generation += 1
        self._publish(reset=True)

    # -- strategies ---------------------------------------------------------------------------

    @Slot(str, dict)
    @guarded
    def add_strategy(self, spec: str, params: dict) -> None:
        session = self.session
        if session is None:
            self.strategy_failed.emit("No data open", "Open a data file before loading a strategy.")
            return
        focus = self.builder.instrument if self.builder is not None else None
        try:
            handle = self._long(
                lambda p, c: session.add_strategy(
                    spec, params or None, instrument=focus, progress=p, cancel=c
                )
            )
        except (StrategyLoadError, TypeError, ValueError) as exc:
            self.strategy_failed.emit(f"Cannot load strategy {spec}", str(exc))
        else:
            if isinstance(handle, StrategyHandle):
                for warning in session.warnings_of(handle):
                    log.warning("%s", warning)  # "no silent nothing": the log panel shows it
        self._strategies_updated()

    # -- which instrument the views show --------------------------------------------------------

    @Slot(int)
    @guarded
    def set_focus(self, index: int) -> None:
        """The ladder, tape and charts show instrument ``index`` from now on."""
        session = self.session
        if session is None or not 0 <= index < len(session.instruments):
            return
        second = self.builder.second if self.builder is not None else None
        self.builder = FrameBuilder(session.cursor, index)
        self.builder.second = second
        self.generation += 1
        self._publish(reset=True)

    @Slot(int)
    @guarded
    def set_second(self, index: int) -> None:
        """The second ladder shows instrument ``index`` (-1: closed)."""
        if self.builder is None:
            return
        self.builder.second = index if index >= 0 else None
        self._publish()

    @Slot(int)
    @guarded
    def remove_strategy(self, handle_id: int) -> None:
        if self.session is not None and (handle := self._handle(handle_id)) is not None:
            self.session.remove_strategy(handle)
            self._strategies_updated()

    @Slot(int, bool)
    @guarded
    def enable_strategy(self, handle_id: int, enabled: bool) -> None:
        session = self.session
        if session is not None and (handle := self._handle(handle_id)) is not None:
            self._long(lambda p, c: session.enable(handle, enabled, progress=p, cancel=c))
            self._strategies_updated()

    @Slot(int)
    @guarded
    def reload_strategy(self, handle_id: int) -> None:
        """Hot reload: the file's new code re-runs from the start to the current moment."""
        session = self.session
        if session is not None and (handle := self._handle(handle_id)) is not None:
            try:
                self._long(lambda p, c: session.reload_strategy(handle, progress=p, cancel=c))
            except StrategyLoadError as exc:
                self.strategy_failed.emit(f"Cannot reload {handle.name}", str(exc))
            self._strategies_updated()

    @Slot(int, dict)
    @guarded
    def set_strategy_params(self, handle_id: int, params: dict) -> None:
        session = self.session
        if session is not None and (handle := self._handle(handle_id)) is not None:
            try:
                self._long(lambda p, c: session.set_params(handle, params, progress=p, cancel=c))
            except (TypeError, ValueError) as exc:
                self.strategy_failed.emit(f"Bad parameters for {handle.name}", str(exc))
            self._strategies_updated()

    @Slot(object)
    @guarded
    def set_execution(self, settings: SessionSettings) -> None:
        """New execution settings: every strategy re-runs from the start to the current moment."""
        self.settings = settings
        session = self.session
        if session is not None:
            self._long(lambda p, c: session.set_settings(settings, progress=p, cancel=c))
            self.generation += 1
            self._reset_pending = True
        self._emit_execution()
        self._strategies_updated()

    @Slot(int, object)
    @guarded
    def set_strategy_execution(self, handle_id: int, settings: SessionSettings | None) -> None:
        """Execution settings of one strategy's own (None: the session's again); it re-runs."""
        session = self.session
        if session is not None and (handle := self._handle(handle_id)) is not None:
            self._long(lambda p, c: session.set_strategy_settings(handle, settings, progress=p, cancel=c))
            self._emit_execution()
            self._strategies_updated()

    @Slot(str)
    @guarded
    def export_results(self, out_dir: str) -> None:
        """Write the strategies' results up to now with the same code as ``replayterm backtest``."""
        session = self.session
        if session is None:
            return
        run_info = {
            "source": "app",
            "files": self._paths,
            "start_us": session.start_ts,
            "now_us": session.now,
            "execution": session.execution_report(),
            "warnings": session.data_notes() + session.execution_notes() + session.warnings,
        }
        try:
            write_results(session, session.strategies, Path(out_dir), run_info)
        except OSError as exc:
            self.failed.emit("Cannot write results", f"{out_dir}: {exc}")
            return
        self.exported.emit(out_dir)

    def _emit_execution(self) -> None:
        session = self.session
        if session is None:
            self.execution_changed.emit({"report": self.settings.describe(), "notes": []})
            return
        self.execution_changed.emit(
            {"report": session.execution_report(), "notes": session.execution_notes()}
        )

    def _handle(self, handle_id: int) -> StrategyHandle | None:
        assert self.session is not None
        return next((h for h in self.session.strategies if h.id == handle_id), None)

    def _carry_strategies(self, old: ReplaySession, new: ReplaySession) -> None:
        """Strategies loaded from files or by name follow the user to newly opened data."""
        for handle in old.strategies:
            info = old.info(handle)
            if info.spec is None:
                continue
            try:
                own = old.strategy_settings(handle)
                new.add_strategy(info.spec, info.params, name=info.name, colour=info.colour, settings=own)
            except (StrategyLoadError, TypeError, ValueError) as exc:
                self.strategy_failed.emit(f"Cannot reload {info.name} on the new data", str(exc))

    def _strategies_updated(self) -> None:
        self._emit_strategies()
        self._publish()

    def _emit_strategies(self) -> None:
        session = self.session
        self.strategies_changed.emit([] if session is None else [session.info(h) for h in session.strategies])

    def _long(self, action: Callable[[Callable[[float, str], None], Callable[[], bool]], object]) -> object:
        """Run a possibly long session call with progress and cancel; a cancel leaves it consistent.
        Returns what the call returned (None when cancelled)."""
        self._cancel.clear()
        try:
            return action(self.busy.emit, self._cancel.is_set)
        except Cancelled:
            log.info("cancelled")
            return None
        finally:
            self.busy.emit(-1.0, "")

    # -- playback -----------------------------------------------------------------------------

    @guarded
    def _tick(self) -> None:
        session = self.session
        if session is None or not self.playing:
            return
        wall = time.perf_counter()
        before = session.position
        started = time.perf_counter()
        if math.isinf(self.speed):
            self._tick_max_speed(session)
        else:
            self._tick_paced(session)
        self._adapt_batch(session.position - before, time.perf_counter() - started)
        self._rate_window.append((wall, session.position - before))
        if session.at_end:
            self._pause_quietly()
            self._publish()
            return
        done = time.perf_counter()
        # A frame is due now, or would be later after the next tick than it is early now (at Max
        # speed a tick lasts most of a frame interval: checking only its start halves the rate).
        if done - self._last_frame_wall >= FRAME_INTERVAL_S - 0.5 * (done - wall):
            self._publish()

    def _tick_paced(self, session: ReplaySession) -> None:
        target = self.clock.now()  # never past the last event
        timeline = session.cursor.timeline
        cap = session.position + self._events_per_tick
        if cap < timeline.n_ready and timeline.ts[cap] <= target:
            # More than one tick's work: apply what fits and report the rest as lag.
            reached = int(timeline.ts[cap - 1])
            session.advance_to(reached)
            self._lag_us = int(target - reached)
            self.clock.seek(reached)  # behind: the clock waits for the replay, it does not run off
            return
        session.advance_to(target)
        self._lag_us = 0

    def _tick_max_speed(self, session: ReplaySession) -> None:
        timeline = session.cursor.timeline
        end_pos = min(session.position + self._events_per_tick, timeline.n_ready)
        if end_pos > session.position:
            session.advance_to(int(timeline.ts[end_pos - 1]))
        self.clock.seek(session.now)
        self._lag_us = 0

    def _adapt_batch(self, applied: int, took: float) -> None:
        """Size the next tick's batch so that it takes about ``TICK_BUDGET_S``."""
        if applied < self._events_per_tick // 2 and took < TICK_BUDGET_S:
            return  # not limited by the batch size this tick: nothing learned
        scale = min(TICK_BUDGET_S / max(took, 1e-4), 2.0)
        self._events_per_tick = int(
            min(MAX_EVENTS_PER_TICK, max(MIN_EVENTS_PER_TICK, self._events_per_tick * scale))
        )

    def _events_per_s(self) -> float:
        now = time.perf_counter()
        window = [(t, n) for t, n in self._rate_window if now - t <= 1.0]
        self._rate_window = window
        if len(window) < 2:
            return 0.0
        span = max(now - window[0][0], 1e-3)
        return sum(n for _, n in window[1:]) / span

    @property
    def playing(self) -> bool:
        return self.clock.playing

    @property
    def speed(self) -> float:
        return self.clock.speed

    def _pause_quietly(self) -> None:
        self.clock.pause()
        if self._timer is not None:
            self._timer.stop()
        self.state_changed.emit(False, self.speed)

    def _publish(self, reset: bool = False) -> None:
        if self.builder is None or self.session is None:
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
        if self.session.strategies:
            frame.strategies = self.streams.collect(self.session, reset)
        self._last_frame_wall = time.perf_counter()
        self.frame_ready.emit(frame)
