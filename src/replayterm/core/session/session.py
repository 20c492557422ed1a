"""``ReplaySession`` = data + books + replay cursor + strategies + simulated execution + metrics.

One object, driven by one thread (the GUI's replay worker, or the CLI). Its state at a replay
time is a function of the data, the settings and the enabled strategies only, never of how the
replay got there: a batch of any size, steps, or a seek give the same fills byte for byte.

- Without enabled strategies, moves use the cursor's batch path (compiled, checkpointed seeks).
- With strategies, events are replayed one by one (``strategy.runner``). Seeking back re-runs
  every enabled strategy from the start to the target. A strategy that joins late (added,
  re-enabled, reloaded, new parameters) is run alone from the start up to the current moment;
  the others are independent of it, so they are left as they are.
- Disabled and failed strategies are frozen: their records stay as they were when they stopped,
  rewinds do not touch them, and enabling them again runs them afresh from the start.

Threading: every method runs on the thread that drives the session, except
``abort_current_callback`` which is meant to be called from another thread (a stop button).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from replayterm.core.data import open_sources, parse_time
from replayterm.core.data.model import Source
from replayterm.core.data.progress import Cancelled
from replayterm.core.execution.account import OrderState
from replayterm.core.execution.exchange import RestingOrder
from replayterm.core.execution.facts import OrderFacts
from replayterm.core.execution.latency import LatencyModel
from replayterm.core.replay.cursor import ReplayCursor
from replayterm.core.replay.instruments import Instrument, build_instruments
from replayterm.core.replay.opening import OpenedData
from replayterm.core.replay.top_of_book import BboCheck, bbo_check_of
from replayterm.core.session.coverage import strategy_legs, strategy_warnings
from replayterm.core.session.settings import PALETTE, SessionSettings, resolve_instrument
from replayterm.core.session.views import (
    StrategyHandle,
    StrategyInfo,
    data_notes,
    info_of,
    mark_series,
    summary_of,
)
from replayterm.core.strategy.base import Strategy, build_params
from replayterm.core.strategy.context import SimClock
from replayterm.core.strategy.env import ReplayEnv
from replayterm.core.strategy.errors import StrategyError, StrategyStatus
from replayterm.core.strategy.loader import StrategyLoadError, load_strategy_class, reload_strategy_class
from replayterm.core.strategy.records import RecordChunk, fill_chunk
from replayterm.core.strategy.runner import EventRunner
from replayterm.core.strategy.slot import Leg, StrategySlot
from replayterm.core.strategy.watchdog import StrategyWatchdog

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]
StrategySpec = str | Path | type[Strategy]


class ReplaySession:
    def __init__(
        self,
        data: Sequence[Source] | Sequence[Instrument],
        settings: SessionSettings | None = None,
        *,
        start_at: int | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> None:
        """From opened sources (their books are indexed here, with ``progress``/``cancel``) or
        from instruments already built with ``build_instruments``.

        ``start_at``: the replay (and every strategy run) starts at this time, with the books as
        they stood just before it, rebuilt from the data before it (so a window that begins
        after the file's opening snapshot still has a full book).
        """
        self.settings = settings if settings is not None else SessionSettings()
        if isinstance(data, OpenedData):
            opened = data
        else:
            items = list(data)
            if all(isinstance(x, Instrument) for x in items):
                opened = OpenedData(tuple(items))  # type: ignore[arg-type]
            else:
                opened = build_instruments(items, progress=progress, cancel=cancel)  # type: ignore[arg-type]
        self.instruments: list[Instrument] = list(opened)
        # Opened data brings its mapped timeline and any indexing still to do.
        self.index_job = opened.job
        self.cursor = ReplayCursor(self.instruments, opened.timeline)
        # Where runs start; the books are rebuilt up to it (instruments may also come from an
        # earlier session that moved their books).
        self.origin = 0 if start_at is None else self.cursor.timeline.position_at(int(start_at) - 1)
        self.cursor.seek_position(self.origin)
        self.focus = self.settings.focus_index(self.instruments) if self.instruments else 0
        self.generation = 0  # bumped whenever strategy records were rewound
        self.clock = SimClock(self.cursor.now)
        self.watchdog = StrategyWatchdog(self.settings.callback_budget_s)
        self._env = ReplayEnv(self.cursor, self.settings.sample_interval_us)
        self._slots: list[StrategySlot] = []
        self._runner = EventRunner(self._env, self.clock, self._slots, self.watchdog)
        self._latency: dict[int, LatencyModel] = {}
        self._own_settings: dict[int, SessionSettings] = {}  # slot id -> settings of its own
        self._marks: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._bbo: list[BboCheck] | None = None
        self._next_id = 1

    @classmethod
    def open(
        cls,
        paths: Sequence[str | Path],
        settings: SessionSettings | None = None,
        *,
        from_ts: str | int | None = None,
        to_ts: str | int | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> ReplaySession:
        """Open data files (``DataError`` on bad input) and index their books.

        The replay covers ``[from_ts, to_ts)``; data before ``from_ts`` is read too, to rebuild
        the book as it stood at ``from_ts``.
        """
        sources = open_sources(list(paths), to_ts=to_ts, progress=progress, cancel=cancel)
        start = None if from_ts is None else parse_time(from_ts)
        return cls(sources, settings, start_at=start, progress=progress, cancel=cancel)

    def close(self) -> None:
        """Stop the watchdog thread (the session is not usable for strategies afterwards)."""
        self.watchdog.close()

    # -- where the replay is ------------------------------------------------------------------------
    @property
    def now(self) -> int:
        return self.cursor.now

    @property
    def position(self) -> int:
        return self.cursor.position

    @property
    def start_ts(self) -> int:
        return self.cursor.start_ts

    @property
    def end_ts(self) -> int:
        return self.cursor.end_ts

    @property
    def at_end(self) -> bool:
        return self.cursor.at_end

    @property
    def warnings(self) -> list[str]:
        return list(self._runner.warnings)

    def data_notes(self) -> list[str]:
        """What the user should know about the data: skipped pre-snapshot rows, ignored files."""
        return data_notes(self.instruments)

    def bbo_checks(self) -> list[BboCheck]:
        """For each instrument with both an L2 book and a ticker: the rebuilt top of book against
        the ticker after every L2 message (computed once)."""
        if self._bbo is None:
            self._bbo = [c for c in (bbo_check_of(inst) for inst in self.instruments) if c is not None]
        return self._bbo

    def latency(self, instrument: int) -> LatencyModel:
        """The latency model orders on ``instrument`` get with the session's settings."""
        if instrument not in self._latency:
            self._latency[instrument] = self.settings.latency_for(self.instruments[instrument])
        return self._latency[instrument]

    @property
    def run_start_ts(self) -> int:
        """The time strategy runs start at (the data's start, or ``start_at``)."""
        timeline = self.cursor.timeline
        if self.origin < len(timeline):
            return int(timeline.ts[self.origin])
        return self.start_ts

    def execution_notes(self) -> list[str]:
        """Warnings about the execution settings on this data (fees, clock offsets, clipping)."""
        notes: list[str] = []
        for i, inst in enumerate(self.instruments):
            notes.extend(self.settings.execution_notes(inst, self.latency(i)))
        for slot_id, own in self._own_settings.items():
            slot = next((s for s in self._slots if s.id == slot_id), None)
            if slot is not None:
                inst = self.instruments[slot.instrument_index]
                warning = own.fee_warning(inst)
                if warning is not None and warning not in notes:
                    notes.append(f"{slot.name}: {warning}")
        return notes

    def execution_report(self) -> dict[str, Any]:
        """The session's execution settings and, per instrument, the latency and fees its orders
        get (JSON values; summary.json's ``execution``)."""
        out = self.settings.describe()
        out["instruments"] = {
            inst.name: {
                "latency_us": self.settings.latency_figures(self.latency(i), self.run_start_ts),
                "fees": self.settings.instrument_fees(inst),
            }
            for i, inst in enumerate(self.instruments)
        }
        out["strategies"] = {
            slot.name: self._own_settings[slot.id].describe()
            for slot in self._slots
            if slot.id in self._own_settings
        }
        return out

    def strategy_settings(self, handle: StrategyHandle) -> SessionSettings | None:
        """The execution settings of the strategy's own, None when it uses the session's."""
        return self._own_settings.get(self._slot(handle).id)

    def set_settings(
        self,
        settings: SessionSettings,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> None:
        """New execution settings for the session: every enabled strategy re-runs from the start
        to the current moment with them (strategies with settings of their own keep those)."""
        self.settings = settings
        self._latency.clear()
        self._marks.clear()
        self._env.sample_us = settings.sample_interval_us
        for slot in self._slots:
            if slot.id not in self._own_settings:
                self._configure(slot, settings)
        enabled = [s for s in self._slots if s.status is StrategyStatus.ENABLED]
        if enabled:
            self.generation += 1
            self._catch_up(enabled, progress, cancel)

    def set_strategy_settings(
        self,
        handle: StrategyHandle,
        settings: SessionSettings | None,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> None:
        """Execution settings of the strategy's own (None: the session's again); it re-runs from
        the start to now with them."""
        slot = self._slot(handle)
        if settings is None:
            self._own_settings.pop(slot.id, None)
        else:
            self._own_settings[slot.id] = settings
        self._configure(slot, settings if settings is not None else self.settings)
        self._catch_up([slot], progress, cancel)

    def _configure(self, slot: StrategySlot, settings: SessionSettings) -> None:
        i = slot.instrument_index
        latency = self.latency(i) if settings is self.settings else settings.latency_for(self.instruments[i])
        slot._make_exchange = settings.exchange_factory(self.instruments[i], latency)
        slot._initial_cash = settings.initial_cash

    # -- moving -------------------------------------------------------------------------------------
    def advance_to(
        self, ts: int, *, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> int:
        """Apply every event with ``local_ts <= ts`` (forward only); returns how many."""
        ts = int(ts)
        if ts <= self.cursor.now:
            return 0
        if not self._runner.running:
            return self.cursor.advance_to(ts)
        stop = self.cursor.timeline.position_at(ts)
        return self._runner.run(stop, ts, progress, cancel)

    def run_to_end(self, *, progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> int:
        """Replay to the last event; the strategies get ``on_stop``."""
        if self.cursor.at_end and self.now >= self.end_ts:
            return 0
        return self.advance_to(max(self.end_ts, self.now + 1), progress=progress, cancel=cancel)

    def step(self) -> int:
        """Apply one timeline event (a book message or a trade)."""
        p = self.cursor.position
        if p >= self.cursor.n_events:
            return 0
        return self._step_to(p)

    def step_message(self, instrument: int | None = None) -> int:
        """Up to and including the next book message (of ``instrument`` if given)."""
        return self._step_until(True, instrument)

    def step_trade(self, instrument: int | None = None) -> int:
        """Up to and including the next trade (of ``instrument`` if given)."""
        return self._step_until(False, instrument)

    def seek(self, ts: int, *, progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> None:
        """Go to the state after every event with ``local_ts <= ts``. Backwards with enabled
        strategies this re-runs them from the start: seconds on long data, hence ``progress``
        and ``cancel`` (``Cancelled`` leaves the session consistent somewhere before ``ts``)."""
        ts = int(ts)
        if self.origin and self.cursor.timeline.position_at(ts) < self.origin:
            ts = int(self.cursor.timeline.ts[self.origin - 1])  # not before the replay's start
        if ts >= self.cursor.now:
            self.advance_to(ts, progress=progress, cancel=cancel)
            return
        enabled = [s for s in self._slots if s.status is StrategyStatus.ENABLED]
        if not enabled:
            self.cursor.seek(ts)
            return
        self.generation += 1
        for slot in enabled:
            slot.reset()
        self.cursor.seek_position(self.origin)
        self._runner.rebuild()
        self._runner.run(self.cursor.timeline.position_at(ts), ts, progress, cancel)

    def _step_until(self, book: bool, instrument: int | None) -> int:
        if not self._runner.running:
            step = self.cursor.step_message if book else self.cursor.step_trade
            return len(step(instrument))
        env = self._env
        want = env.stream_book if book else env.stream_trade
        streams = [
            s
            for s, (hit, i) in enumerate(zip(want, env.stream_inst, strict=True))
            if hit and (instrument is None or i == instrument)
        ]
        target = self.cursor.timeline.next_of_stream(self.cursor.position, streams)
        return 0 if target is None else self._step_to(target)

    def _step_to(self, target: int) -> int:
        """Apply events up to and including position ``target``."""
        ts = int(self.cursor.timeline.ts[target])
        if not self._runner.running:
            applied = 0
            while self.cursor.position <= target and self.cursor.step() is not None:
                applied += 1
            return applied
        return self._runner.run(target + 1, ts)

    # -- strategies ---------------------------------------------------------------------------------
    @property
    def strategies(self) -> list[StrategyHandle]:
        return [StrategyHandle(s.id, s.name) for s in self._slots]

    def add_strategy(
        self,
        strategy: StrategySpec,
        params: Any = None,
        *,
        instrument: int | str | None = None,
        name: str | None = None,
        colour: str | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
        settings: SessionSettings | None = None,
        enabled: bool = True,
        error: StrategyError | None = None,
    ) -> StrategyHandle:
        """Add a strategy (a class, a ``.py`` path, ``path.py:Class`` or a registered name) with
        ``params`` (a Params instance or a dict; strings are converted). It runs from the start
        of the data up to the current moment before this returns. Raises StrategyLoadError
        or ValueError (bad parameters, unknown instrument). ``settings``: execution settings of
        this strategy's own (None: the session's). ``enabled=False`` adds it switched off (it
        does not run), ``error`` as failed with that error: how a strategy carried to other data
        keeps the state it had."""
        if isinstance(strategy, type):
            if not issubclass(strategy, Strategy):
                raise StrategyLoadError(f"{strategy.__qualname__} is not a Strategy subclass")
            cls, spec = strategy, None
        else:
            cls, spec = load_strategy_class(strategy), str(strategy)
        index = resolve_instrument(self.instruments, self.focus if instrument is None else instrument)
        built = build_params(cls.Params, params)
        legs = strategy_legs(self.instruments, cls, built, index)
        index = legs[0]
        slot_id = self._next_id
        self._next_id += 1
        taken = {s.name for s in self._slots}
        base = name or getattr(cls, "name", None) or cls.__name__
        unique, k = base, 2
        while unique in taken:
            unique, k = f"{base}#{k}", k + 1
        slot = StrategySlot(
            slot_id,
            cls,
            built,
            name=unique,
            colour=colour or PALETTE[(slot_id - 1) % len(PALETTE)],
            spec=spec,
            instrument_index=index,
            instrument=self.instruments[index],
            market_book=self._env.views[index],
            make_exchange=self.settings.exchange_factory(self.instruments[index], self.latency(index)),
            initial_cash=self.settings.initial_cash,
            clock=self.clock,
            extra_legs=tuple(
                Leg(
                    j,
                    self.instruments[j],
                    self._env.views[j],
                    self.settings.exchange_factory(self.instruments[j], self.latency(j)),
                )
                for j in legs[1:]
            ),
        )
        slot.warnings = strategy_warnings(slot)
        if settings is not None:
            self._own_settings[slot.id] = settings
            self._configure(slot, settings)
        self._slots.append(slot)
        if not enabled or error is not None:
            if error is not None:
                slot.fail(error)
            else:
                slot.status = StrategyStatus.DISABLED
            self._runner.rebuild()
            return StrategyHandle(slot.id, slot.name)
        try:
            self._catch_up([slot], progress, cancel)
        except Cancelled:
            self.remove_strategy(StrategyHandle(slot.id, slot.name))
            raise
        return StrategyHandle(slot.id, slot.name)

    def remove_strategy(self, handle: StrategyHandle) -> None:
        slot = self._slot(handle)
        self._slots.remove(slot)
        self._own_settings.pop(slot.id, None)
        slot.runner = None
        self._runner.rebuild()

    def enable(
        self,
        handle: StrategyHandle,
        enabled: bool = True,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> None:
        """Switch a strategy off (its results freeze) or on again (it re-runs from the start up to
        now, clearing a previous failure)."""
        slot = self._slot(handle)
        if not enabled:
            if slot.status is StrategyStatus.ENABLED:
                slot.status = StrategyStatus.DISABLED
                slot.logs.append(self.now, "disabled")
                self._runner.rebuild()
            return
        if slot.status is not StrategyStatus.ENABLED:
            self._catch_up([slot], progress, cancel)

    def reload_strategy(
        self, handle: StrategyHandle, *, progress: ProgressFn | None = None, cancel: CancelFn | None = None
    ) -> None:
        """Load the strategy's file again and re-run it from the start to now with the new code
        (parameters carried over where the names still exist). Raises StrategyLoadError and leaves
        the strategy untouched when the new code cannot be loaded."""
        slot = self._slot(handle)
        if slot.spec is not None and (slot.spec.endswith(".py") or ".py:" in slot.spec):
            cls = load_strategy_class(slot.spec)
        else:
            cls = reload_strategy_class(slot.cls)
        try:
            params = build_params(cls.Params, slot.params, strict=False)
        except (TypeError, ValueError) as exc:
            raise StrategyLoadError(f"{slot.name}: parameters do not fit the reloaded code: {exc}") from exc
        slot.cls, slot.params = cls, params
        self._catch_up([slot], progress, cancel)

    def set_params(
        self,
        handle: StrategyHandle,
        params: Any,
        *,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> None:
        """New parameters: the strategy re-runs from the start to now with them."""
        slot = self._slot(handle)
        slot.params = build_params(slot.cls.Params, params)
        self._catch_up([slot], progress, cancel)

    def abort_current_callback(self) -> bool:
        """From any thread: stop the strategy callback running now (it is disabled with a
        message). False when no strategy callback is running."""
        return self.watchdog.abort_current()

    def _catch_up(
        self, slots: list[StrategySlot], progress: ProgressFn | None, cancel: CancelFn | None
    ) -> None:
        """Run ``slots`` alone from the start of the data to the current moment."""
        cursor = self.cursor
        position, now = cursor.position, cursor.now
        for slot in slots:
            slot.reset()
            slot.status, slot.error = StrategyStatus.ENABLED, None
        cursor.seek_position(self.origin)
        try:
            EventRunner(self._env, self.clock, slots, self.watchdog).run(position, now, progress, cancel)
        except Cancelled:
            for slot in slots:
                slot.reset()
                slot.status = StrategyStatus.DISABLED
                slot.logs.append(now, "start cancelled")
            cursor.seek_position(position)
            if now > cursor.now:
                cursor.advance_to(now)
            raise
        finally:
            self._runner.rebuild()

    def _slot(self, handle: StrategyHandle) -> StrategySlot:
        for slot in self._slots:
            if slot.id == handle.id:
                return slot
        raise KeyError(f"no strategy {handle.name!r} (id {handle.id}) in this session")

    # -- what the GUI shows -------------------------------------------------------------------------
    def info(self, handle: StrategyHandle) -> StrategyInfo:
        return info_of(self._slot(handle))

    def fills(self, handle: StrategyHandle, since: int = 0) -> RecordChunk:
        """Fills ``[since, end)``: ts (heard), exch_ts, order_id, side, price, amount, fee, maker,
        leaves, instrument (index into ``instruments``)."""
        slot = self._slot(handle)
        if not slot.multi:
            chunk = fill_chunk(slot.account.fills, since)
            chunk.columns["instrument"] = np.full(len(chunk), slot.instrument_index, dtype=np.int16)
            return chunk
        chunk = fill_chunk(slot.all_fills, since)
        chunk.columns["instrument"] = np.array(slot.fill_instruments[chunk.start : chunk.end], dtype=np.int16)
        return chunk

    def signals(self, handle: StrategyHandle, since: int = 0) -> RecordChunk:
        """Signals ``[since, end)``: ts, strength, price (the mid then), kind (list), meta (list)."""
        return self._slot(handle).signals.since(since)

    def plots(self, handle: StrategyHandle, since: dict[str, int] | None = None) -> dict[str, RecordChunk]:
        """Per plotted series, the points (ts, value) after ``since[series]``."""
        return self._slot(handle).plots.since(since)

    def equity(self, handle: StrategyHandle, since: int = 0) -> RecordChunk:
        """Account samples ``[since, end)``: ts, position, avg_price, realized, unrealized, fees,
        net, equity, mark (see ``SessionSettings.sample_interval_us`` for when they are taken)."""
        return self._slot(handle).equity.since(since)

    def logs(self, handle: StrategyHandle, since: int = 0) -> RecordChunk:
        """Log lines ``[since, end)``: ts, text (lists)."""
        return self._slot(handle).logs.since(since)

    def resting_orders(self, handle: StrategyHandle) -> list[RestingOrder]:
        """Orders resting at the simulated exchange, with their estimated queue position."""
        return self._slot(handle).exchange.resting_orders()

    def order_facts(self, handle: StrategyHandle) -> list[tuple[int, OrderFacts]]:
        """(instrument index, facts) of every order the strategy sent, by instrument then id."""
        slot = self._slot(handle)
        return [(i, f) for i, ex in sorted(slot.exchanges.items()) for f in ex.order_facts()]

    def open_orders(self, handle: StrategyHandle) -> list[OrderState]:
        return self._slot(handle).account.open_orders()

    def error(self, handle: StrategyHandle) -> StrategyError | None:
        return self._slot(handle).error

    def summary(self, handle: StrategyHandle) -> dict[str, Any]:
        """Status, parameters and ``metrics.summarize`` of the strategy up to now (JSON-able)."""
        slot = self._slot(handle)
        for j in slot.instrument_indices:
            if j not in self._marks:
                self._marks[j] = mark_series(self.instruments[j])
        i = slot.instrument_index
        own = self._own_settings.get(slot.id, self.settings)
        return summary_of(
            slot,
            self._marks[i],
            self.now,
            own.initial_cash,
            start=self.run_start_ts,
            interval_us=self.settings.metrics_interval_us,
            leg_marks=self._marks,
        )

    def funding(self, handle: StrategyHandle, since: int = 0) -> RecordChunk:
        """Funding settlements ``[since, end)``: ts, instrument (index), position, mark, rate,
        amount (received; negative = paid)."""
        return self._slot(handle).funding_log.since(since)

    def warnings_of(self, handle: StrategyHandle) -> list[str]:
        """What the strategy will never see in the open data (no book for on_book, ...)."""
        return list(self._slot(handle).warnings)

    def instruments_of(self, handle: StrategyHandle) -> list[str]:
        return [leg.instrument.name for leg in self._slot(handle).legs]

    def leg_equity(self, handle: StrategyHandle, instrument: str, since: int = 0) -> RecordChunk:
        """Equity samples of one instrument of a multi-instrument strategy (``equity`` is the total)."""
        slot = self._slot(handle)
        leg = slot.leg(instrument)
        log = slot.leg_equity.get(leg.index)
        return (log if log is not None else slot.equity).since(since)
