"""One symbol's book rows prepared for the kernel: price grid, message groups, snapshot resets.

``BookEvents.from_arrays`` takes the columnar book rows of one symbol in replay order (several
files are simply concatenated in ``local_ts`` order) and derives, in a few vectorized passes:

- ``prices``: the sorted unique prices (the grid), and each row's rank in it. The grid comes
  from Arrow's hash-based ``dictionary_encode`` plus a sort of the (small) dictionary, ~20x
  faster than ``np.unique`` on 10M rows. The kernel reads ``key`` (int32: the rank for a bid,
  ``~rank`` for an ask), so side and rank cost one array argument and 4 bytes a row.
- message groups: runs of rows sharing ``local_ts`` (``group_start``, ``n_groups + 1`` offsets).
  A message is observable only as a whole.
- ``group_ts``: the group's ``local_ts``, clamped to the running maximum so that it never goes
  backwards (real captures have a few receive timestamps that step back; rows keep file order,
  which is the exchange's order, and the clamp only makes time lookups well defined).
- snapshot resets: a snapshot row that follows a non-snapshot row (or is the first
  row) starts a snapshot, which clears both sides first. ``reset[g]`` marks the groups holding
  such a row and ``apply_from[g]`` is the row where the group's effective rows begin (the last
  snapshot start inside the group; rows before it would be cleared anyway). Rows before the
  first snapshot row are skipped: their groups apply nothing. The kernel gets both packed in
  ``groups`` (row 0: ``group_start``; row 1: ``apply_from``, as ``~apply_from`` on resets). With
  ``full_snapshot_each_message=True`` (book_snapshot_N sources) every group from the first
  snapshot on is a reset.

The book rules these rows follow: docs/architecture.md, "Book rules".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from replayterm.core.data.model import Kind, Source
from replayterm.core.errors import DataError

_FIX_HINT = "Check the book file and the reader that produced these rows"


@dataclass(frozen=True, eq=False)
class BookEvents:
    """Immutable, kernel-ready book rows of one symbol (see the module docstring)."""

    # Event columns: numpy arrays, or ``ChunkedColumn`` views of the mapped cache (out of core).
    local_ts: Any  # int64 [n_rows]
    exch_ts: Any  # int64 [n_rows]
    side: Any  # int8 [n_rows], +1 bid / -1 ask
    price: Any  # float64 [n_rows]
    amount: np.ndarray  # float64 [n_rows], contiguous (a kernel input)
    is_snapshot: Any  # bool [n_rows]
    prices: np.ndarray  # float64 [n_prices], sorted unique
    key: np.ndarray  # int32 [n_rows]: rank for bids, ~rank for asks
    groups: np.ndarray  # int64 [2, n_groups + 1]: group_start; apply_from (~apply_from on reset)
    group_ts: np.ndarray  # int64 [n_groups], non-decreasing
    first_snapshot_row: int  # n_rows when there is no snapshot at all
    first_snapshot_group: int  # n_groups when there is no snapshot at all
    full_snapshot_each_message: bool
    ts_backwards: int  # rows whose local_ts is lower than the previous row's
    # While an index is still being built: how many groups are ready (None = all of them).
    ready: IndexReady | None = field(default=None, compare=False)
    # Groups that clear the book, when the index stored them (saves a pass over every group).
    reset_list: np.ndarray | None = field(default=None, compare=False)

    @classmethod
    def from_arrays(
        cls,
        local_ts: np.ndarray,
        exch_ts: np.ndarray,
        side: np.ndarray,
        price: np.ndarray,
        amount: np.ndarray,
        is_snapshot: np.ndarray,
        *,
        full_snapshot_each_message: bool = False,
        source: str | Path = "<book rows>",
    ) -> BookEvents:
        """Validate the rows and build the grid, groups and resets. Bad rows raise ``DataError``."""
        local_ts = np.ascontiguousarray(local_ts, dtype=np.int64)
        exch_ts = np.ascontiguousarray(exch_ts, dtype=np.int64)
        side = np.ascontiguousarray(side, dtype=np.int8)
        price = np.ascontiguousarray(price, dtype=np.float64)
        amount = np.ascontiguousarray(amount, dtype=np.float64)
        is_snapshot = np.ascontiguousarray(is_snapshot, dtype=np.bool_)
        n = local_ts.shape[0]
        for name, arr in (("exch_ts", exch_ts), ("side", side), ("price", price), ("amount", amount)):
            if arr.shape != (n,):
                raise DataError(source, f"column '{name}' has {arr.shape[0]} rows, local_ts has {n}")
        if is_snapshot.shape != (n,):
            raise DataError(source, f"column 'is_snapshot' has {is_snapshot.shape[0]} rows, local_ts has {n}")
        _check_rows(source, side, price, amount)

        prices, price_idx = price_grid(price)
        group_start = message_offsets(local_ts)
        n_groups = group_start.shape[0] - 1
        key = price_idx
        np.invert(price_idx, out=key, where=side < 0)
        first_ts = local_ts[group_start[:-1]]
        group_ts = np.maximum.accumulate(first_ts) if n_groups else first_ts
        ts_backwards = int(np.count_nonzero(local_ts[1:] < local_ts[:-1])) if n > 1 else 0

        apply_from, reset, first_row, first_group = _resets(
            group_start, is_snapshot, full_snapshot_each_message
        )
        groups = np.zeros((2, n_groups + 1), dtype=np.int64)
        groups[0] = group_start
        groups[1, :-1] = np.where(reset, ~apply_from, apply_from)
        return cls(
            local_ts=local_ts,
            exch_ts=exch_ts,
            side=side,
            price=price,
            amount=amount,
            is_snapshot=is_snapshot,
            prices=prices,
            key=key,
            groups=groups,
            group_ts=group_ts,
            first_snapshot_row=first_row,
            first_snapshot_group=first_group,
            full_snapshot_each_message=full_snapshot_each_message,
            ts_backwards=ts_backwards,
        )

    @classmethod
    def from_sources(cls, sources: Sequence[Source]) -> BookEvents:
        """One symbol's book from one or more files (e.g. day 1 + day 2), joined in time order.

        All sources must be books of the same exchange and symbol, either all incremental or all
        ``book_snapshot_N`` (then every message is a full snapshot).
        """
        if not sources:
            raise ValueError("no book sources given")
        first = sources[0]
        for s in sources:
            if not s.is_book:
                raise ValueError(f"{s.path}: {s.label} is not a book source")
            if (s.exchange, s.symbol) != (first.exchange, first.symbol):
                raise ValueError(f"{s.path}: {s.label} is another symbol than {first.label}")
            if (s.kind is Kind.BOOK_SNAPSHOT) != (first.kind is Kind.BOOK_SNAPSHOT):
                raise ValueError(f"{s.path}: incremental and snapshot books cannot be mixed")
        ordered = sorted(sources, key=lambda s: (s.time_span() or (0, 0))[0])  # stable: ties keep order
        names = ("local_ts", "exch_ts", "side", "price", "amount", "is_snapshot")
        cols = {
            n: np.concatenate([s.column(n) for s in ordered]) if len(ordered) > 1 else first.column(n)
            for n in names
        }
        return cls.from_arrays(
            **cols,
            full_snapshot_each_message=first.kind is Kind.BOOK_SNAPSHOT,
            source=", ".join(str(s.path) for s in ordered),
        )

    # -- sizes -----------------------------------------------------------------------------

    @property
    def n_rows(self) -> int:
        return int(self.local_ts.shape[0])

    @property
    def n_groups(self) -> int:
        return int(self.groups.shape[1] - 1)

    @property
    def n_ready(self) -> int:
        """Groups that can be replayed now (all of them once the index is complete)."""
        return self.n_groups if self.ready is None or self.ready.done else self.ready.groups

    @property
    def group_start(self) -> np.ndarray:
        """int64 [n_groups + 1]: group g is rows ``[group_start[g], group_start[g+1])``."""
        return self.groups[0]

    @property
    def reset(self) -> np.ndarray:
        """bool [n_groups]: the group starts a snapshot (clears the book first)."""
        return self.groups[1, :-1] < 0

    @property
    def apply_from(self) -> np.ndarray:
        """int64 [n_groups]: first row of each group that takes effect (computed)."""
        a = self.groups[1, :-1]
        return np.where(a < 0, ~a, a)

    @property
    def price_idx(self) -> np.ndarray:
        """int32 [n_rows]: each row's rank in ``prices`` (computed from ``key``)."""
        return np.where(self.key >= 0, self.key, ~self.key)

    @property
    def n_prices(self) -> int:
        return int(self.prices.shape[0])

    @property
    def source_nbytes(self) -> int:
        """Bytes of the six input columns (what the event store holds for this book)."""
        cols = (self.local_ts, self.exch_ts, self.side, self.price, self.amount, self.is_snapshot)
        return int(sum(c.nbytes for c in cols))

    @property
    def derived_nbytes(self) -> int:
        """Bytes added by preparation (grid, ranks, group arrays)."""
        cols = (self.prices, self.key, self.groups, self.group_ts)
        return int(sum(c.nbytes for c in cols))

    # -- lookups -----------------------------------------------------------------------------

    def groups_through(self, ts: int) -> int:
        """Number of groups with ``group_ts <= ts`` (the position after replaying up to ``ts``)."""
        return int(np.searchsorted(self.group_ts[: self.n_ready], ts, side="right"))

    def group_of_row(self, row: int) -> int:
        """Index of the message group that holds ``row``."""
        return int(np.searchsorted(self.group_start, row, side="right") - 1)

    def skipped_rows_before(self, position: int) -> int:
        """Rows skipped (before the first snapshot) among the groups ``[0, position)``."""
        return min(int(self.group_start[position]), self.first_snapshot_row)

    # -- timeline markers ------------------------------------------------------------------

    @property
    def skipped_rows(self) -> int:
        """Rows before the first snapshot, which the book never applies."""
        return self.first_snapshot_row

    @property
    def resnapshot_groups(self) -> np.ndarray:
        """Groups that clear the book after the first snapshot (gaps where the feed re-synced).

        Empty for full-snapshot sources, where every message is a snapshot by nature.
        """
        if self.full_snapshot_each_message:
            return np.empty(0, dtype=np.int64)
        g = np.asarray(self.reset_list) if self.reset_list is not None else np.flatnonzero(self.reset)
        return g[g > self.first_snapshot_group].astype(np.int64)

    @property
    def resnapshot_ts(self) -> np.ndarray:
        return self.group_ts[self.resnapshot_groups]

    @property
    def skipped_ts(self) -> np.ndarray:
        """``group_ts`` of every group holding rows skipped before the first snapshot."""
        if self.first_snapshot_row == 0:
            return np.empty(0, dtype=np.int64)
        last = self.group_of_row(self.first_snapshot_row - 1)
        return self.group_ts[: last + 1]


@dataclass
class IndexReady:
    """Progress of an index being built in the background: groups ``[0, groups)`` are usable."""

    groups: int = 0
    done: bool = False


def price_grid(price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique prices and each row's rank in them (int32)."""
    if price.shape[0] == 0:
        return np.empty(0, dtype=np.float64), np.empty(0, dtype=np.int32)
    encoded = pa.array(price).dictionary_encode()
    dictionary = encoded.dictionary.to_numpy()
    order = np.argsort(dictionary, kind="stable")
    if order.shape[0] > np.iinfo(np.int32).max:
        raise ValueError("more than 2**31 distinct prices")
    rank = np.empty(order.shape[0], dtype=np.int32)
    rank[order] = np.arange(order.shape[0], dtype=np.int32)
    return dictionary[order], rank[encoded.indices.to_numpy()]


def message_offsets(local_ts: np.ndarray) -> np.ndarray:
    """Offsets of runs of rows sharing ``local_ts``: group g is rows ``[off[g], off[g+1])``."""
    n = int(local_ts.shape[0])
    if n == 0:
        return np.zeros(1, dtype=np.int64)
    starts = np.flatnonzero(local_ts[1:] != local_ts[:-1]) + 1
    out = np.empty(starts.shape[0] + 2, dtype=np.int64)
    out[0] = 0
    out[1:-1] = starts
    out[-1] = n
    return out


def _resets(
    group_start: np.ndarray, is_snapshot: np.ndarray, full_each: bool
) -> tuple[np.ndarray, np.ndarray, int, int]:
    n_groups = group_start.shape[0] - 1
    n = is_snapshot.shape[0]
    apply_from = group_start[:-1].copy()
    reset = np.zeros(n_groups, dtype=np.bool_)
    snap_rows = np.flatnonzero(is_snapshot)
    if snap_rows.shape[0] == 0:
        apply_from[:] = group_start[1:]
        return apply_from, reset, n, n_groups
    first_row = int(snap_rows[0])
    first_group = int(np.searchsorted(group_start, first_row, side="right") - 1)
    if full_each:
        reset[first_group:] = True
    else:
        prev = np.empty(n, dtype=np.bool_)
        prev[0] = False
        prev[1:] = is_snapshot[:-1]
        starts = np.flatnonzero(is_snapshot & ~prev)
        groups = np.searchsorted(group_start, starts, side="right") - 1
        last_in_group = np.empty(groups.shape[0], dtype=np.bool_)
        last_in_group[:-1] = groups[1:] != groups[:-1]
        last_in_group[-1] = True
        apply_from[groups[last_in_group]] = starts[last_in_group]
        reset[groups] = True
    apply_from[first_group] = max(int(apply_from[first_group]), first_row)
    apply_from[:first_group] = group_start[1 : first_group + 1]
    return apply_from, reset, first_row, first_group


def _check_rows(source: str | Path, side: np.ndarray, price: np.ndarray, amount: np.ndarray) -> None:
    bad = np.flatnonzero((side != 1) & (side != -1))
    if bad.shape[0]:
        r = int(bad[0])
        raise DataError(
            source,
            f"row {r}: side must be +1 (bid) or -1 (ask); {bad.shape[0]} rows are not",
            value=str(int(side[r])),
            hint=_FIX_HINT,
        )
    bad = np.flatnonzero(~(np.isfinite(price) & (price > 0)))
    if bad.shape[0]:
        r = int(bad[0])
        raise DataError(
            source,
            f"row {r}: price must be a finite number > 0; {bad.shape[0]} rows are not",
            value=repr(float(price[r])),
            hint=_FIX_HINT,
        )
    bad = np.flatnonzero(~(np.isfinite(amount) & (amount >= 0)))
    if bad.shape[0]:
        r = int(bad[0])
        raise DataError(
            source,
            f"row {r}: amount must be a finite number >= 0 (0 deletes the level); "
            f"{bad.shape[0]} rows are not",
            value=repr(float(amount[r])),
            hint=_FIX_HINT,
        )
