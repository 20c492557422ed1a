"""``ReplayCursor``: where the replay is on the merged timeline, and every way to move it.

Moves: ``step`` (one event), ``step_message`` / ``step_trade`` (up to the next book message or
trade), ``advance_to(t)`` (batch forward through the compiled book kernel) and ``seek(t)`` (either
direction, through each book's checkpoints). All of them leave every book exactly as a straight
replay to the same point would. Position p means timeline events ``[0, p)`` are applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import NamedTuple

import numpy as np

from replayterm.core.replay.instruments import Instrument
from replayterm.core.replay.opening import OpenedData
from replayterm.core.replay.tickers import FundingEvent, funding_events, funding_local_times
from replayterm.core.replay.timeline import Timeline, TimelineInput


class EventKind(IntEnum):
    BOOK = 0
    TRADE = 1
    TICKER = 2  # a derivative_ticker row
    LIQUIDATION = 3
    FUNDING = 4  # a funding time passed (settled on open positions)


_OTHER_KINDS = (EventKind.TICKER, EventKind.LIQUIDATION, EventKind.FUNDING)


class CursorEvent(NamedTuple):
    """One applied timeline event: a complete book message, one trade, ticker row, liquidation
    or funding settlement."""

    kind: EventKind
    instrument: int
    item: int  # message group (book) or row (trade) within the instrument's stream
    ts: int


class ReplayCursor:
    def __init__(self, instruments: Sequence[Instrument], timeline: Timeline | None = None) -> None:
        """``timeline``: the merged order built beforehand (mapped from the cache, see
        ``replay.indexing``); by default it is taken from ``OpenedData`` or built in memory."""
        if timeline is None and isinstance(instruments, OpenedData):
            timeline = instruments.timeline
        self.instruments = list(instruments)
        inputs: list[TimelineInput] = []
        owners: list[tuple[EventKind, int]] = []
        for i, inst in enumerate(self.instruments):
            if inst.book is not None:
                inputs.append(TimelineInput(inst.book.events.group_ts, is_book=True))
                owners.append((EventKind.BOOK, i))
            if inst.trades is not None:
                inputs.append(TimelineInput(inst.trades.local_ts, is_book=False))
                owners.append((EventKind.TRADE, i))
        # The other types come after (stream numbers of book and trades stay as they were).
        self.funding: list[list[FundingEvent]] = [[] for _ in self.instruments]
        for i, inst in enumerate(self.instruments):
            if inst.tickers is not None:
                inputs.append(TimelineInput(inst.tickers.local_ts, is_book=False))
                owners.append((EventKind.TICKER, i))
                self.funding[i] = funding_events(inst.tickers)
                if self.funding[i]:
                    times = funding_local_times(inst.tickers, self.funding[i])
                    inputs.append(TimelineInput(times, is_book=False))
                    owners.append((EventKind.FUNDING, i))
            if inst.liquidations is not None:
                inputs.append(TimelineInput(inst.liquidations.local_ts, is_book=False))
                owners.append((EventKind.LIQUIDATION, i))
        self._funding_ts = [
            funding_local_times(inst.tickers, self.funding[i])
            if inst.tickers is not None and self.funding[i]
            else np.empty(0, dtype=np.int64)
            for i, inst in enumerate(self.instruments)
        ]
        # A timeline merged beforehand (mapped from the cache) covers books and trades; with other
        # streams (tickers, liquidations) the merge is done here, in memory.
        covers = timeline is not None and len(timeline) == sum(len(i.ts) for i in inputs)
        self.timeline = timeline if timeline is not None and covers else Timeline.build(inputs)
        self._owners = owners
        self._trade_streams = [s for s, (kind, _) in enumerate(owners) if kind is EventKind.TRADE]
        self._book_streams = [s for s, (kind, _) in enumerate(owners) if kind is EventKind.BOOK]
        self._trades_applied = [0] * len(self.instruments)
        self._other_applied = {k: [0] * len(self.instruments) for k in _OTHER_KINDS}
        self.position = 0
        self._clock = self.start_ts - 1 if len(self.timeline) else 0

    # -- where we are ------------------------------------------------------------------------

    @property
    def start_ts(self) -> int:
        return self.timeline.start_ts or 0

    @property
    def end_ts(self) -> int:
        return self.timeline.end_ts or 0

    @property
    def n_events(self) -> int:
        return len(self.timeline)

    @property
    def at_end(self) -> bool:
        return self.position >= len(self.timeline)

    @property
    def ready_ts(self) -> int:
        """Events up to this time are indexed and replayable (the end once indexing is done)."""
        return self.timeline.ready_ts

    @property
    def at_ready_end(self) -> bool:
        """The replay has reached the part that is still being indexed."""
        return not self.timeline.complete and self.position >= self.timeline.n_ready

    @property
    def now(self) -> int:
        """The replay clock: the time last moved to (by advance/seek) or of the last stepped event."""
        return self._clock

    def trades_applied(self, instrument: int) -> int:
        """How many trades of ``instrument`` are behind the cursor."""
        return self._trades_applied[instrument]

    def applied(self, kind: EventKind, instrument: int) -> int:
        """How many ticker rows, liquidations or funding settlements of ``instrument`` are behind
        the cursor (trades: ``trades_applied``)."""
        if kind is EventKind.TRADE:
            return self._trades_applied[instrument]
        return self._other_applied[kind][instrument]

    @property
    def owners(self) -> list[tuple[EventKind, int]]:
        """For each timeline stream: what kind of event and which instrument."""
        return self._owners

    def gaps(self) -> np.ndarray:
        """Times where the data is not continuous: re-snapshots and skipped pre-snapshot rows."""
        parts = [np.empty(0, dtype=np.int64)]
        for inst in self.instruments:
            if inst.book is not None:
                parts.append(inst.resnapshot_ts)  # a new day's file starting is no gap
                skipped = inst.book.events.skipped_ts
                if skipped.size:
                    parts.append(skipped[-1:])
        return np.unique(np.concatenate(parts))

    def file_starts(self) -> np.ndarray:
        """Times where a new file of an instrument begins (day boundaries of a multi-day replay)."""
        parts = [np.asarray(inst.file_starts, dtype=np.int64) for inst in self.instruments]
        return np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)

    # -- one event at a time -----------------------------------------------------------------

    def step(self) -> CursorEvent | None:
        """Apply the next event (the per-message path); None at the end."""
        p = self.position
        if p >= self.timeline.n_ready:
            return None
        tl = self.timeline
        kind, i = self._owners[int(tl.stream[p])]
        item = int(tl.item[p])
        ts = int(tl.ts[p])
        if kind is EventKind.BOOK:
            book = self.instruments[i].book
            assert book is not None
            book.step()
        elif kind is EventKind.TRADE:
            self._trades_applied[i] += 1
        else:
            self._other_applied[kind][i] += 1
        self.position = p + 1
        self._clock = max(self._clock, ts)
        return CursorEvent(kind, i, item, ts)

    def step_message(self, instrument: int | None = None) -> list[CursorEvent]:
        """Step up to and including the next book message (of ``instrument`` if given)."""
        return self._step_until(EventKind.BOOK, instrument)

    def step_trade(self, instrument: int | None = None) -> list[CursorEvent]:
        """Step up to and including the next trade (of ``instrument`` if given)."""
        return self._step_until(EventKind.TRADE, instrument)

    def _step_until(self, kind: EventKind, instrument: int | None) -> list[CursorEvent]:
        streams = [
            s
            for s, (k, i) in enumerate(self._owners)
            if k is kind and (instrument is None or i == instrument)
        ]
        target = self.timeline.next_of_stream(self.position, streams)
        if target is None:
            return []
        return [e for e in (self.step() for _ in range(target + 1 - self.position)) if e is not None]

    # -- batches and seeks -------------------------------------------------------------------

    def advance_to(self, ts: int) -> int:
        """Apply every event with ``local_ts <= ts`` (forward only); return how many were applied.

        While indexing goes on, stops at the indexed part (``ready_ts``)."""
        ts = min(ts, self.timeline.ready_ts)
        if ts <= self._clock:
            return 0
        start = self.position
        target = self.timeline.position_at(ts)
        if target > start:
            for inst in self.instruments:
                if inst.book is not None:
                    inst.book.apply_until(ts)
            self._sync_trades(ts)
            self.position = target
        self._clock = ts
        return target - start

    def seek(self, ts: int) -> None:
        """Move to the state after every event with ``local_ts <= ts``, in either direction
        (no further than the indexed part while indexing goes on)."""
        ts = min(ts, self.timeline.ready_ts)
        for inst in self.instruments:
            if inst.book is not None:
                inst.book.seek(ts)
        self._sync_trades(ts)
        self.position = self.timeline.position_at(ts)
        self._clock = ts

    def seek_position(self, position: int) -> None:
        """Move so that exactly the events ``[0, position)`` are applied (may split equal times)."""
        position = max(0, min(int(position), self.timeline.n_ready))
        ts = int(self.timeline.ts[position - 1]) if position else self.start_ts - 1
        tl = self.timeline
        counts = np.bincount(tl.stream[:position], minlength=len(self._owners)) if position else None
        for s, (kind, i) in enumerate(self._owners):
            applied = int(counts[s]) if counts is not None else 0
            if kind is EventKind.BOOK:
                book = self.instruments[i].book
                assert book is not None
                book.seek_group(applied)
            elif kind is EventKind.TRADE:
                self._trades_applied[i] = applied
            else:
                self._other_applied[kind][i] = applied
        self.position = position
        self._clock = ts

    def reset(self) -> None:
        self.seek_position(0)

    def _sync_trades(self, ts: int) -> None:
        for i, inst in enumerate(self.instruments):
            if inst.trades is not None:
                self._trades_applied[i] = inst.trades.count_through(ts)
            if inst.tickers is not None:
                self._other_applied[EventKind.TICKER][i] = inst.tickers.count_through(ts)
                self._other_applied[EventKind.FUNDING][i] = int(
                    np.searchsorted(self._funding_ts[i], ts, side="right")
                )
            if inst.liquidations is not None:
                self._other_applied[EventKind.LIQUIDATION][i] = inst.liquidations.count_through(ts)
