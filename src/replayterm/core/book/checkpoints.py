"""Sparse full-book checkpoints for exact seek, built in one cancellable pass.

Rules: docs/architecture.md, "Book rules".

A checkpoint at position p is the complete state after groups ``[0, p)``: the nonzero levels of
each side (int32 rank + float64 amount) plus the scalar state (best indices, counts, dirty
bounds, counters), so restoring it reproduces a straight replay bit for bit.

Spacing is by rows, because the rows re-applied after a restore are what a seek costs. The pass
starts with a short interval and keeps checkpoints at row targets ``j * interval``; whenever the
stored bytes exceed the budget, the interval doubles and every checkpoint off the new grid is
dropped. So the total stays within the budget, checkpoints stay evenly spaced, and the interval
ends within a factor two of the finest one the budget allows, without knowing book sizes ahead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from replayterm.core.book import kernel as k
from replayterm.core.book.book import Book
from replayterm.core.book.events import BookEvents
from replayterm.core.data.progress import Cancelled  # one cancel exception for the whole open

__all__ = ["Cancelled", "Checkpoints", "build_checkpoints"]

DEFAULT_BUDGET_FRACTION = 0.10
DEFAULT_MIN_INTERVAL_ROWS = 4096
_PROGRESS_STEP = 0.005
_FIXED_BYTES = 2 * 8  # the closing entries of bid_off and ask_off


@dataclass(frozen=True, eq=False)
class Checkpoints:
    """Saved states (ascending ``position``) plus what the build pass observed.

    Checkpoint j holds the levels ``bid_idx[bid_off[j]:bid_off[j+1]]`` (and the same for asks)
    and the scalar state ``states[j]``. The empty book at position 0 is implicit.
    """

    position: np.ndarray  # int64 [k]
    bid_off: np.ndarray  # int64 [k+1]
    bid_idx: np.ndarray  # int32
    bid_amt: np.ndarray  # float64
    ask_off: np.ndarray  # int64 [k+1]
    ask_idx: np.ndarray  # int32
    ask_amt: np.ndarray  # float64
    states: np.ndarray  # int64 [k, STATE_SIZE]
    interval_rows: int
    budget_bytes: int
    crossed_groups: np.ndarray  # int64: groups after which crossed levels were removed
    best_idx: np.ndarray | None  # int32 [n_groups, 2]: best bid/ask rank after each group (-1 empty)
    best_amt: np.ndarray | None = None  # float64 [n_groups, 2]: amounts at those levels (0 when empty)

    def __len__(self) -> int:
        return int(self.position.shape[0])

    @property
    def nbytes(self) -> int:
        """Bytes of the saved states (the figure held against the budget)."""
        parts = (
            self.position,
            self.bid_off,
            self.bid_idx,
            self.bid_amt,
            self.ask_off,
            self.ask_idx,
            self.ask_amt,
            self.states,
        )
        return int(sum(p.nbytes for p in parts))

    def last_at_or_before(self, position: int) -> int:
        """Index of the last checkpoint with ``position <= position``, or -1 (use the empty book)."""
        return int(np.searchsorted(self.position, position, side="right")) - 1

    def restore(self, j: int, book: Book) -> None:
        """Overwrite ``book`` with checkpoint ``j``."""
        b0, b1 = int(self.bid_off[j]), int(self.bid_off[j + 1])
        a0, a1 = int(self.ask_off[j]), int(self.ask_off[j + 1])
        k.restore_state(
            book.amounts,
            book.st,
            self.bid_idx[b0:b1],
            self.bid_amt[b0:b1],
            self.ask_idx[a0:a1],
            self.ask_amt[a0:a1],
            self.states[j],
        )

    def best_prices(self, prices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Best bid and best ask price after every group (NaN when a side is empty).

        Needs a build with ``record_best=True``.
        """
        if self.best_idx is None:
            raise ValueError("checkpoints were built without record_best=True")
        grid = np.append(prices, np.nan)  # index -1 reads the NaN
        return grid[self.best_idx[:, 0]], grid[self.best_idx[:, 1]]

    def top_imbalance(self) -> np.ndarray:
        """(bid size - ask size) / (sum) at the touch after every group; NaN when both are empty.

        Needs a build with ``record_best=True``.
        """
        if self.best_amt is None:
            raise ValueError("checkpoints were built without record_best=True")
        bid, ask = self.best_amt[:, 0], self.best_amt[:, 1]
        total = bid + ask
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, (bid - ask) / total, np.nan)


@dataclass
class _Saved:
    row_target: int
    position: int
    bid: tuple[np.ndarray, np.ndarray]
    ask: tuple[np.ndarray, np.ndarray]
    state: np.ndarray

    @property
    def nbytes(self) -> int:
        per_level = 4 + 8
        n_levels = self.bid[0].shape[0] + self.ask[0].shape[0]
        # position + two offsets + scalar state, as stored in the final flat arrays
        return n_levels * per_level + 3 * 8 + self.state.nbytes


def build_checkpoints(
    events: BookEvents,
    *,
    budget_bytes: int | None = None,
    min_interval_rows: int = DEFAULT_MIN_INTERVAL_ROWS,
    record_best: bool = False,
    progress: Callable[[float], object] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Checkpoints:
    """Replay ``events`` once, saving checkpoints within ``budget_bytes``.

    ``budget_bytes`` defaults to 10 % of ``events.source_nbytes``. ``progress(fraction)`` is
    called with a rising fraction in [0, 1] (about every 0.5 %), ``cancel()`` before each chunk of
    work; when it returns True the pass stops with ``Cancelled``.
    """
    if budget_bytes is None:
        budget_bytes = int(events.source_nbytes * DEFAULT_BUDGET_FRACTION)
    interval = max(1, int(min_interval_rows))
    n_rows, n_groups = events.n_rows, events.n_groups
    book = Book(events.prices)
    args = (events.groups, events.key, events.amount, book.amounts, book.st)
    best = np.empty(2 * n_groups if record_best else 0, dtype=np.int32)
    best_amt = np.empty(2 * n_groups if record_best else 0, dtype=np.float64)
    crossed_parts: list[np.ndarray] = []
    saved: list[_Saved] = []
    stored = _FIXED_BYTES
    reported = -1.0
    target = interval

    def report(fraction: float) -> None:
        nonlocal reported
        if progress is not None and (fraction - reported >= _PROGRESS_STEP or fraction >= 1.0):
            reported = fraction
            progress(fraction)

    report(0.0)
    group_start = events.group_start
    while True:
        if cancel is not None and cancel():
            raise Cancelled("checkpoint build cancelled")
        g_end = int(np.searchsorted(group_start, target, side="left")) if target < n_rows else n_groups
        g0 = book.position
        if g_end > g0:
            log = np.empty(g_end - g0, dtype=np.int64)
            n_log = k.apply_groups_logged(*args, g_end, log, best, best_amt)
            if n_log:
                crossed_parts.append(log[:n_log])
        if g_end >= n_groups:
            break
        if not saved or saved[-1].position < g_end:
            cp = _save(book, target)
            saved.append(cp)
            stored += cp.nbytes
            while stored > budget_bytes and saved:
                interval *= 2
                saved = [s for s in saved if s.row_target % interval == 0]
                stored = _FIXED_BYTES + sum(s.nbytes for s in saved)
        report(int(group_start[g_end]) / n_rows)
        target = (target // interval + 1) * interval
    report(1.0)
    if not record_best:
        return _pack(saved, interval, budget_bytes, crossed_parts, None, None)
    return _pack(saved, interval, budget_bytes, crossed_parts, best.reshape(-1, 2), best_amt.reshape(-1, 2))


def _save(book: Book, row_target: int) -> _Saved:
    st = book.st
    bid = k.extract_side(book.bid, st[k.BID_LO], st[k.BID_HI], st[k.N_BID])
    ask = k.extract_side(book.ask, st[k.ASK_LO], st[k.ASK_HI], st[k.N_ASK])
    return _Saved(row_target, book.position, bid, ask, st.copy())


def _pack(
    saved: list[_Saved],
    interval: int,
    budget: int,
    crossed_parts: list[np.ndarray],
    best: np.ndarray | None,
    best_amt: np.ndarray | None,
) -> Checkpoints:
    def offsets(parts: list[np.ndarray]) -> np.ndarray:
        off = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum([p.shape[0] for p in parts], out=off[1:])
        return off

    def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype=dtype)

    bid_idx = [s.bid[0] for s in saved]
    ask_idx = [s.ask[0] for s in saved]
    states = np.stack([s.state for s in saved]) if saved else np.empty((0, k.STATE_SIZE), dtype=np.int64)
    return Checkpoints(
        position=np.array([s.position for s in saved], dtype=np.int64),
        bid_off=offsets(bid_idx),
        bid_idx=cat(bid_idx, np.int32),
        bid_amt=cat([s.bid[1] for s in saved], np.float64),
        ask_off=offsets(ask_idx),
        ask_idx=cat(ask_idx, np.int32),
        ask_amt=cat([s.ask[1] for s in saved], np.float64),
        states=states,
        interval_rows=interval,
        budget_bytes=budget,
        crossed_groups=cat(crossed_parts, np.int64),
        best_idx=best,
        best_amt=best_amt,
    )
