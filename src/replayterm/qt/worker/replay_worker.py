"""``ReplayWorker``: the one object that owns the replay session, living in its own ``QThread``.

The GUI thread only renders. Commands arrive as queued signals connected to the slots below;
results leave as ``Frame`` objects (latest state + appended streams), at most one per display
refresh. Every seek or open bumps the generation so stale frames can be dropped. The methods
safe to call directly from another thread are ``request_cancel``, ``issue_seek`` / ``issue_open``
(counters that let a newer request supersede a running one, see ``requests``) and
``request_abort_callback`` (stops a strategy callback that hangs). ``ping`` echoes a token as
``pong`` once everything queued before it is done (tests wait on that, never on time).

This module holds the slots; pacing, background indexing and opening live beside it.
The threading rules: docs/architecture.md, "Threading".
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, QTimer, Signal, Slot

from replayterm.core.data import Cancelled, DataError
from replayterm.core.frames.builder import FrameBuilder
from replayterm.core.frames.strategies import StrategyStreams
from replayterm.core.replay.indexing import warm_up
from replayterm.core.session import ReplaySession, SessionSettings, StrategyHandle
from replayterm.core.session.export import write_results
from replayterm.core.strategy import StrategyLoadError
from replayterm.qt.worker.indexing import IndexScheduler
from replayterm.qt.worker.opening import OpenedInfo, open_files, opened_info
from replayterm.qt.worker.playback import TICK_MS, Playback
from replayterm.qt.worker.requests import Requests

log = logging.getLogger(__name__)

__all__ = ["OpenedInfo", "ReplayWorker"]

F = TypeVar("F", bound=Callable[..., Any])
CancelFn = Callable[[], bool]


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
    orders_listed = Signal(int, list)  # strategy id, [OrderFacts.row() + instrument] (order inspector)
    order_inspected = Signal(object)  # dict: OrderFacts.life() + strategy, instrument, colour
    # While a big open is indexed in the background: fraction, time up to which the replay is
    # usable, the time a seek waits for (-1: none). Fraction 1 = done, < 0 = indexing stopped.
    index_progress = Signal(float, object, object)
    gaps_changed = Signal(list)
    pong = Signal(object)  # the token of ``ping``: everything queued before it is done
    # Strategies written for other instruments than the newly opened ones wait for the user:
    # names, the instruments they ran on, the new instruments. Answer with ``carry_strategies``.
    carry_question = Signal(list, list, list)

    def __init__(self, settings: SessionSettings | None = None) -> None:
        super().__init__()
        self.requests = Requests()
        self._timer: QTimer | None = None
        self.settings = settings if settings is not None else SessionSettings()
        self.session: ReplaySession | None = None
        self.builder: FrameBuilder | None = None
        self.depth_reach = 0  # ticks from the touch every frame covers (see set_depth_reach)
        self.streams = StrategyStreams()
        self.generation = 0
        self.playback = Playback()
        self._reset_pending = True
        self._paths: list[str] = []
        self._index_timer: QTimer | None = None
        self.indexing = IndexScheduler(self.index_progress.emit)
        self._pending_carry: list[tuple[Any, SessionSettings | None]] = []

    @property
    def clock(self) -> Any:
        return self.playback.clock

    @property
    def playing(self) -> bool:
        return self.playback.playing

    @property
    def speed(self) -> float:
        return self.playback.speed

    # -- thread-safe -------------------------------------------------------------------------

    @Slot()
    def request_cancel(self) -> None:
        """Stop the open, seek or strategy start running or queued now (safe from any thread)."""
        self.requests.cancel()

    def enable_flow_control(self) -> None:
        """Publish while playing only as fast as the GUI receives (``frame_received``)."""
        self.playback.gate.enabled = True

    def frame_received(self) -> None:
        """A frame reached the GUI thread (call from there; safe from any thread)."""
        self.playback.gate.receive()

    @Slot()  # a real slot: connected directly, it must not go through a per-callable receiver
    def issue_seek(self) -> None:
        """A seek is being sent: a running seek stops for it (safe from any thread)."""
        self.requests.issue_seek()

    @Slot()  # a real slot: connected directly, it must not go through a per-callable receiver
    def issue_open(self) -> None:
        """An open is being sent: a running seek or open stops for it (safe from any thread)."""
        self.requests.issue_open()

    @Slot()  # a real slot: connected directly, it must not go through a per-callable receiver
    def issue_command(self) -> None:
        """A strategy or execution command is being sent (safe from any thread): it remembers the
        Cancels pressed so far, so one pressed while it waits in the queue stops it."""
        self.requests.issue_command()

    def request_abort_callback(self) -> bool:
        """Stop the strategy callback running now, if any (safe from any thread)."""
        session = self.session
        return session.abort_current_callback() if session is not None else False

    # -- slots (run in the worker thread) -----------------------------------------------------

    @Slot(object)
    def ping(self, token: object) -> None:
        self.pong.emit(token)

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
        thread = QThread.currentThread()
        if thread is not QCoreApplication.instance().thread():  # type: ignore[union-attr]
            thread.quit()

    @Slot(list)
    @guarded
    def open(self, paths: Sequence[str]) -> None:
        cancel = self.requests.begin_open()
        if cancel is None:
            return  # a newer open is queued: it replaces this one
        was_playing = self.playing
        self._pause_quietly()
        try:
            opened = open_files(paths, self.open_progress.emit, cancel)
        except Exception as exc:
            if isinstance(exc, Cancelled):
                self.requests.cancels_consumed()
                self.open_cancelled.emit()
            else:
                text = str(exc) if isinstance(exc, DataError) else f"{exc}\n\n{traceback.format_exc()}"
                self.open_failed.emit(text)
            # The replay that was open stays exactly as it was: playing if it was playing.
            if was_playing:
                self._resume()
            elif self.session is not None:
                self._publish()
            return
        previous = self.session
        self._stop_indexing(discard=True)
        session = ReplaySession(opened.instruments, self.settings)
        session.cursor.seek(session.start_ts)
        self.session = session
        self._paths = [str(p) for p in paths]
        self.builder = FrameBuilder(session.cursor, session.focus)
        self.builder.reach_ticks = self.depth_reach
        self.streams.forget()
        self.playback.opened(session)
        self.generation += 1
        self.opened.emit(opened_info(paths, opened, session))
        if previous is not None:
            self._carry_strategies(previous, session)
            previous.close()
        self._emit_execution()
        self._emit_strategies()
        self._publish(reset=True)
        if opened.job is not None and self._index_timer is not None:
            self.indexing.start(opened.job, session)
            self._index_timer.start()

    # -- background indexing of a big open ------------------------------------------------------

    @guarded
    def _index_tick(self) -> None:
        session = self.session
        if not self.indexing.active or session is None:
            self._stop_indexing()
            return
        if self.requests.idle_cancel():
            self.indexing.cancel(session)  # drops the waiting seek, else stops indexing
            if not self.indexing.active:
                self._stop_indexing()
            return
        try:
            done, seek = self.indexing.step(session)
        finally:
            if not self.indexing.active and self._index_timer is not None:
                self._index_timer.stop()
        if seek is not None:
            self._seek_now(seek)
        if done:
            self.gaps_changed.emit([int(g) for g in session.cursor.gaps()])
            if not self.playing:
                self._publish()

    def _stop_indexing(self, discard: bool = False) -> None:
        if self._index_timer is not None:
            self._index_timer.stop()
        self.indexing.stop(self.session, discard)

    @Slot()
    @guarded
    def play(self) -> None:
        if self.session is None or self._timer is None:
            return
        if self.session.at_end:
            self._long(
                lambda p, c: self.session.seek(self.session.start_ts, progress=p, cancel=c),  # type: ignore[union-attr]
                self.requests.restart_cancel(),
            )
            self.generation += 1
            self._reset_pending = True
        self._resume()

    def _resume(self) -> None:
        """Play on from where the replay is (the clock restarts from now: no jump)."""
        if self.session is None or self._timer is None:
            return
        self.playback.play(self.session)
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
        self.playback.set_speed(speed, self.session)
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
        cancel = self.requests.begin_seek()
        if cancel is None or session is None:
            return  # a newer seek or open is queued: only the newest one runs
        if self.indexing.wait_for(int(ts), session):
            # Beyond the indexed part: wait for it (progress shown, Cancel drops the seek).
            self._pause_quietly()
            self._publish()  # an answer, so the GUI knows the worker is alive while the seek waits
            return
        self._seek_now(int(ts), cancel)

    def _seek_now(self, ts: int, cancel: CancelFn | None = None) -> None:
        session = self.session
        assert session is not None
        stop = cancel if cancel is not None else self.requests.restart_cancel()
        self._long(lambda p, c: session.seek(int(ts), progress=p, cancel=c), stop)
        self.playback.moved(session)
        self.generation += 1
        self._publish(reset=True)

    # -- strategies ---------------------------------------------------------------------------

    @Slot(str, dict)
    @guarded
    def add_strategy(self, spec: str, params: dict) -> None:
        cancel = self.requests.begin_command()  # first: it pairs with issue_command
        session = self.session
        if session is None:
            self.strategy_failed.emit("No data open", "Open a data file before loading a strategy.")
            return
        focus = self.builder.instrument if self.builder is not None else None
        try:
            handle = self._long(
                lambda p, c: session.add_strategy(
                    spec, params or None, instrument=focus, progress=p, cancel=c
                ),
                cancel,
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
        cancel = self.requests.begin_command()  # first: it pairs with issue_command
        session = self.session
        if session is not None and (handle := self._handle(handle_id)) is not None:
            self._long(lambda p, c: session.enable(handle, enabled, progress=p, cancel=c), cancel)
            self._strategies_updated()

    @Slot(int)
    @guarded
    def reload_strategy(self, handle_id: int) -> None:
        """Hot reload: the file's new code re-runs from the start to the current moment."""
        cancel = self.requests.begin_command()  # first: it pairs with issue_command
        session = self.session
        if session is not None and (handle := self._handle(handle_id)) is not None:
            try:
                self._long(lambda p, c: session.reload_strategy(handle, progress=p, cancel=c), cancel)
            except StrategyLoadError as exc:
                self.strategy_failed.emit(f"Cannot reload {handle.name}", str(exc))
            self._strategies_updated()

    @Slot(int, dict)
    @guarded
    def set_strategy_params(self, handle_id: int, params: dict) -> None:
        cancel = self.requests.begin_command()  # first: it pairs with issue_command
        session = self.session
        if session is not None and (handle := self._handle(handle_id)) is not None:
            try:
                self._long(lambda p, c: session.set_params(handle, params, progress=p, cancel=c), cancel)
            except (TypeError, ValueError) as exc:
                self.strategy_failed.emit(f"Bad parameters for {handle.name}", str(exc))
            self._strategies_updated()

    @Slot(object)
    @guarded
    def set_execution(self, settings: SessionSettings) -> None:
        """New execution settings: every strategy re-runs from the start to the current moment."""
        cancel = self.requests.begin_command()  # first: it pairs with issue_command
        self.settings = settings
        session = self.session
        if session is not None:
            self._long(lambda p, c: session.set_settings(settings, progress=p, cancel=c), cancel)
            self.generation += 1
            self._reset_pending = True
        self._emit_execution()
        self._strategies_updated()

    @Slot(int, object)
    @guarded
    def set_strategy_execution(self, handle_id: int, settings: SessionSettings | None) -> None:
        """Execution settings of one strategy's own (None: the session's again); it re-runs."""
        cancel = self.requests.begin_command()  # first: it pairs with issue_command
        session = self.session
        if session is not None and (handle := self._handle(handle_id)) is not None:
            self._long(
                lambda p, c: session.set_strategy_settings(handle, settings, progress=p, cancel=c), cancel
            )
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

    @Slot(int)
    @guarded
    def list_orders(self, handle_id: int) -> None:
        """Every order of one strategy so far with its outcome, for the order inspector."""
        session = self.session
        handle = None if session is None else self._handle(handle_id)
        if session is None or handle is None:
            self.orders_listed.emit(handle_id, [])
            return
        names = [inst.name for inst in session.instruments]
        rows = [{"instrument": names[i], **f.row()} for i, f in session.order_facts(handle)]
        self.orders_listed.emit(handle_id, rows)

    @Slot(int, int)
    @guarded
    def inspect_order(self, handle_id: int, order_id: int) -> None:
        """One order's whole life (queue curve, trades at its price, fills, outcome, reason)."""
        session = self.session
        handle = None if session is None else self._handle(handle_id)
        if session is None or handle is None:
            return
        names = [inst.name for inst in session.instruments]
        for i, facts in session.order_facts(handle):
            if facts.order_id == order_id:
                info = session.info(handle)
                life = {**facts.life(), "strategy": info.name, "instrument": names[i], "colour": info.colour}
                life["now_us"] = session.now
                self.order_inspected.emit(life)
                return

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
        """Strategies loaded from files or by name follow the user to newly opened data, each in
        the state it had (a failed or stopped one stays so: a looping one would hang again).
        Strategies written for an instrument the new data does not have wait for the user's
        answer (``carry_question``) instead of silently trading another symbol."""
        carried = [
            (old.info(h), old.strategy_settings(h)) for h in old.strategies if old.info(h).spec is not None
        ]
        self._pending_carry = []
        if not carried:
            return
        names = {i.name for i in new.instruments}
        if all(set(info.instrument.split(" + ")) <= names for info, _ in carried):
            self._add_carried(new, carried)
            return
        self._pending_carry = carried
        self.carry_question.emit(
            [info.name for info, _ in carried],
            sorted({leg for info, _ in carried for leg in info.instrument.split(" + ")}),
            sorted(names),
        )

    @Slot(bool)
    @guarded
    def carry_strategies(self, carry: bool) -> None:
        """The answer to ``carry_question``: add the waiting strategies to the open data, or drop them."""
        pending, self._pending_carry = self._pending_carry, []
        if carry and pending and self.session is not None:
            self._add_carried(self.session, pending)
        self._emit_strategies()
        self._publish()

    def _add_carried(self, new: ReplaySession, carried: list[tuple[Any, SessionSettings | None]]) -> None:
        names = {i.name for i in new.instruments}
        for info, own in carried:
            status = info.status.value
            try:
                new.add_strategy(
                    info.spec,
                    info.params,
                    instrument=info.instrument if info.instrument in names else None,
                    name=info.name,
                    colour=info.colour,
                    settings=own,
                    enabled=status == "enabled",
                    error=info.error if status == "failed" else None,
                )
            except (StrategyLoadError, TypeError, ValueError) as exc:
                self.strategy_failed.emit(f"Cannot reload {info.name} on the new data", str(exc))

    def _strategies_updated(self) -> None:
        self._emit_strategies()
        self._publish()

    def _emit_strategies(self) -> None:
        session = self.session
        self.strategies_changed.emit([] if session is None else [session.info(h) for h in session.strategies])

    def _long(
        self, action: Callable[[Callable[[float, str], None], CancelFn], object], cancel: CancelFn
    ) -> object:
        """Run a possibly long session call with progress and cancel; a cancel leaves it consistent.
        Returns what the call returned (None when cancelled). ``cancel``: when to stop (see
        ``requests``)."""
        try:
            return action(self.busy.emit, cancel)
        except Cancelled:
            log.info("cancelled")
            self.requests.cancels_consumed()
            return None
        finally:
            self.busy.emit(-1.0, "")

    # -- playback -----------------------------------------------------------------------------

    @guarded
    def _tick(self) -> None:
        session = self.session
        if session is None or not self.playing:
            return
        started = self.playback.tick(session)
        if session.at_end:
            self._pause_quietly()
            self._publish()
            return
        if self.playback.frame_due(started):
            self._publish()

    def _pause_quietly(self) -> None:
        self.playback.pause()
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
            events_per_s=self.playback.events_per_s(),
            lag_us=self.playback.lag_us,
        )
        if self.session.strategies:
            frame.strategies = self.streams.collect(self.session, reset)
        self.playback.published()
        self.frame_ready.emit(frame)
