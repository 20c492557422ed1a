"""Keeping one symbol's book in sequence: snapshot, buffered updates, gaps and re-syncs.

The exchange-specific parts (which ids a message carries and how consecutive messages chain) are
small ``Rule`` objects; what is common lives here:

- before the first snapshot, updates are buffered (at most ``BUFFER`` of them, as tardis-dev does);
  when the snapshot arrives, buffered updates newer than it are merged into it, so the snapshot is
  one message at its receive time;
- an update older than the book (its last id is not past the last applied one) is dropped and
  counted: duplicates and late copies never touch the book;
- the first update after a snapshot must straddle it, every later one must chain to the previous
  one; otherwise a gap opens (see ``gaps``) and stays open until a snapshot re-syncs the book;
- a snapshot while the book is in sequence is kept as a check point only when the rule says the
  exchange sends snapshots in-stream (Bybit); a REST snapshot is then ignored, like tardis-dev.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from replayterm.core.data.sources.raw.gaps import SequenceGap
from replayterm.core.data.sources.raw.tables import RawTables

BUFFER = 2000

Levels = list[list[str]]


@dataclass
class Update:
    local: int
    exch: int
    first: int  # first id in the message (Binance U; Bybit u; OKX prevSeqId + 1 ...)
    last: int  # last id (Binance u)
    prev: int | None  # the id the message says came before it (Binance futures pu), if any
    bids: Levels
    asks: Levels


class Rule:
    """How an exchange's book messages chain. ``follows(prev_last, update)``: in sequence;
    ``straddles(snapshot_id, update)``: the first update after a snapshot overlaps it;
    ``older(snapshot_or_last, update)``: the update is already contained in the book."""

    name = ""
    in_stream_snapshots = False  # snapshots come in the stream (Bybit, OKX): each one resets the book

    def follows(self, prev_last: int, u: Update) -> bool:
        raise NotImplementedError

    def straddles(self, snap_id: int, u: Update) -> bool:
        raise NotImplementedError

    def older_than_snapshot(self, snap_id: int, u: Update) -> bool:
        raise NotImplementedError

    def expected(self, prev_last: int, u: Update) -> str:
        raise NotImplementedError


@dataclass
class BookSync:
    exchange: str
    symbol: str
    rule: Rule
    out: RawTables
    gaps: list[SequenceGap] = field(default_factory=list)
    dropped: int = 0  # updates older than the book (duplicates, late copies, pre-snapshot)
    outside_depth: int = 0  # update levels beyond the last snapshot's deepest level
    snapshots: int = 0
    _buffer: deque[Update] = field(default_factory=lambda: deque(maxlen=BUFFER))
    _synced: bool = False
    _snap_id: int | None = None
    _validated: bool = False
    _last: int | None = None
    _last_ts: int | None = None
    _open_gap: dict[str, Any] | None = None
    _bounds: tuple[float, float] | None = None  # deepest bid and ask price of the last snapshot
    first_update_ts: int | None = None

    # -- snapshots -------------------------------------------------------------------------

    def snapshot(
        self, local: int, exch: int, snap_id: int | None, bids: Levels, asks: Levels, how: str
    ) -> None:
        """A full book (REST response, generated snapshot or in-stream snapshot)."""
        if self._synced and self._open_gap is None and not self.rule.in_stream_snapshots:
            return  # in sequence already: a second REST snapshot is ignored, as tardis-dev does
        book_bids = dict((p, a) for p, a in bids)
        book_asks = dict((p, a) for p, a in asks)
        pending = list(self._buffer)
        self._buffer.clear()
        last = snap_id
        used = 0
        if snap_id is not None:
            # Buffered updates that continue the snapshot are merged into it (one message).
            for u in pending:
                if self.rule.older_than_snapshot(snap_id, u):
                    self.dropped += 1
                    used += 1
                    continue
                if last == snap_id and not self.rule.straddles(snap_id, u):
                    break
                if last != snap_id and last is not None and not self.rule.follows(last, u):
                    break
                for p, a in u.bids:
                    book_bids[p] = a
                for p, a in u.asks:
                    book_asks[p] = a
                last = u.last
                used += 1
        self.out.book(
            self.exchange,
            self.symbol,
            local,
            exch,
            [[p, a] for p, a in book_bids.items()],
            [[p, a] for p, a in book_asks.items()],
            True,
        )
        self.snapshots += 1
        self._bounds = _bounds(bids, asks)
        if self._open_gap is not None:
            self._close_gap(local, f"re-synced by {how}")
        self._synced = True
        self._snap_id = snap_id
        self._validated = snap_id is None or last != snap_id
        self._last = last
        self._last_ts = local
        for u in pending[used:]:  # what did not continue the snapshot goes through the checks
            self.update(u)

    # -- updates ---------------------------------------------------------------------------

    def update(self, u: Update) -> None:
        if self.first_update_ts is None:
            self.first_update_ts = u.local
        if not self._synced:
            self._buffer.append(u)
            return
        if not self._validated:
            snap_id = self._snap_id
            assert snap_id is not None
            if self.rule.older_than_snapshot(snap_id, u):
                self.dropped += 1  # older than the snapshot: already in it
                return
            if self._open_gap is None and not self.rule.straddles(snap_id, u):
                self._start_gap(
                    u.local,
                    f"the first update after the snapshot (ids {u.first}..{u.last}) does not overlap its "
                    f"id {snap_id}: the snapshot is older than the stream or updates are missing",
                )
            self._validated = True
        else:
            last = self._last
            if last is not None and u.last <= last:
                self.dropped += 1  # already in the book: a duplicate or a late copy
                return
            if self._open_gap is None and last is not None and not self.rule.follows(last, u):
                self._start_gap(u.local, self.rule.expected(last, u))
        self._check_depth(u)
        self.out.book(self.exchange, self.symbol, u.local, u.exch, u.bids, u.asks, False)
        self._last = u.last
        self._last_ts = u.local

    def _check_depth(self, u: Update) -> None:
        if self._bounds is None:
            return
        lo_bid, hi_ask = self._bounds
        for p, _ in u.bids:
            if float(p) < lo_bid:
                self.outside_depth += 1
        for p, _ in u.asks:
            if float(p) > hi_ask:
                self.outside_depth += 1

    # -- gaps ------------------------------------------------------------------------------

    def _start_gap(self, local: int, reason: str) -> None:
        self._open_gap = {"start_ts": local, "last_good_ts": self._last_ts, "reason": reason}

    def _close_gap(self, local: int | None, recovery: str) -> None:
        g = self._open_gap
        assert g is not None
        self.gaps.append(
            SequenceGap(
                self.exchange, self.symbol, g["start_ts"], g["last_good_ts"], local, g["reason"], recovery
            )
        )
        self._open_gap = None

    def finish(self) -> None:
        """End of the recording: an open gap stays open; no snapshot at all is a gap too."""
        if not self._synced and self.first_update_ts is not None:
            # Keep what was buffered (the latest updates) so the book and its gap are visible;
            # the replay skips rows before a first snapshot.
            for u in self._buffer:
                self.out.book(self.exchange, self.symbol, u.local, u.exch, u.bids, u.asks, False)
            self._buffer.clear()
            self._open_gap = {
                "start_ts": self.first_update_ts,
                "last_good_ts": None,
                "reason": "the recording has no depth snapshot: updates alone cannot build the book",
            }
        if self._open_gap is not None:
            self._close_gap(None, "not recovered: no snapshot followed before the end of the recording")


def _bounds(bids: Levels, asks: Levels) -> tuple[float, float] | None:
    if not bids or not asks:
        return None
    return min(float(p) for p, _ in bids), max(float(p) for p, _ in asks)


Apply = Callable[[BookSync, int, dict[str, Any]], None]
