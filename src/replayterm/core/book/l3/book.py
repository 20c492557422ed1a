"""``L3Book``: the live market-by-order book of one instrument, moved to any record by ``sync``.

Position p means records ``[0, p)`` are applied. ``sync(p)`` goes forward by applying records and
backward by restoring the last checkpoint at or before p (the resting orders in FIFO order, saved
every ``interval`` records at ends of events in one pass when the book is built), so any move
leaves the same state as a straight replay. The L2 replay drives it lazily: the ladder and the
exact queue model ask ``at_l2_rows(n)`` for the state after the first n derived L2 rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from replayterm.core.book.l3 import kernel as k
from replayterm.core.book.l3.events import L3Events, state_args

DEFAULT_INTERVAL = 1 << 16
_K: Any = k  # numba dispatchers: mypy cannot see their signatures


@dataclass(frozen=True, eq=False)
class L3Checkpoints:
    position: np.ndarray  # int64 record positions, ascending (0 first: the empty book)
    offsets: np.ndarray  # int64 [n + 1] into the order arrays
    order: np.ndarray
    level: np.ndarray
    size: np.ndarray
    prio: np.ndarray
    scalars: np.ndarray  # int64 [n, N_SCALARS]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.order, self.level, self.size, self.prio, self.scalars))


class L3Book:
    """Every resting order of one instrument, FIFO per (side, price). Sides: +1 bid, -1 ask."""

    def __init__(self, events: L3Events, l2_record: np.ndarray | None = None) -> None:
        self.events = events
        # For each derived L2 row, the record index of its end of event.
        self.l2_record = l2_record
        self.state = k.new_state(events.n_orders, events.n_levels)
        self._args = state_args(self.state)
        self._empty_out = (
            np.zeros(0, np.int64),
            np.zeros(0, np.int32),
            np.zeros(0, np.int64),
            np.zeros(0, np.uint8),
        )
        self.checkpoints: L3Checkpoints | None = None

    @property
    def position(self) -> int:
        return int(self.state["st"][k.POS])

    @property
    def live_orders(self) -> int:
        return int(self.state["st"][k.LIVE_ORDERS])

    def _apply(self, stop: int) -> None:
        e = self.events
        _K.run(e.action, e.level, e.size, e.order, e.flags, *self._args, stop, False, *self._empty_out)

    def reset(self) -> None:
        fresh = k.new_state(self.events.n_orders, self.events.n_levels)
        for name, array in fresh.items():
            self.state[name][...] = array

    def sync(self, position: int) -> None:
        """Records ``[0, position)`` applied (either direction)."""
        position = max(0, min(int(position), self.events.n_records))
        current = self.position
        if current == position:
            return
        cps = self.checkpoints
        if current < position and (cps is None or position - current < DEFAULT_INTERVAL):
            self._apply(position)  # a short step forward: no checkpoint can be closer
            return
        j = int(np.searchsorted(cps.position, position, side="right")) - 1 if cps is not None else -1
        start = int(cps.position[j]) if cps is not None and j >= 0 else 0
        if not (start <= current <= position):
            if cps is not None and j >= 0:
                self._restore(cps, j)
            else:
                self.reset()
        self._apply(position)

    def at_l2_rows(self, rows: int) -> None:
        """The state after the first ``rows`` derived L2 rows (the L2 book's applied rows)."""
        if self.l2_record is None or rows <= 0:
            self.sync(0 if rows <= 0 else self.events.n_records)
            return
        self.sync(int(self.l2_record[min(rows, self.l2_record.shape[0]) - 1]) + 1)

    def _restore(self, cps: L3Checkpoints, j: int) -> None:
        lo, hi = int(cps.offsets[j]), int(cps.offsets[j + 1])
        _K.restore(cps.order[lo:hi], cps.level[lo:hi], cps.size[lo:hi], cps.prio[lo:hi], *self._args)
        self.state["st"][...] = cps.scalars[j]

    def build_checkpoints(self, interval: int = DEFAULT_INTERVAL) -> L3Checkpoints:
        """One pass saving the resting orders every ``interval`` records (at ends of events)."""
        scratch = L3Book(self.events)
        e = self.events
        flags = e.flags
        ends = np.flatnonzero((flags & k.F_LAST) != 0) + 1
        positions = [0]
        for p in ends.tolist():
            if p - positions[-1] >= interval:
                positions.append(int(p))
        parts: list[tuple[np.ndarray, ...]] = []
        scalars = []
        for p in positions:
            scratch._apply(p)
            st = scratch.state
            parts.append(
                k.orders_of_book(st["o_size"], st["o_next"], st["o_prio"], st["l_head"], st["l_count"])
            )
            scalars.append(st["st"].copy())
        sizes = np.array([len(part[0]) for part in parts], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.checkpoints = L3Checkpoints(
            np.array(positions, dtype=np.int64),
            offsets,
            np.concatenate([part[0] for part in parts]),
            np.concatenate([part[1] for part in parts]),
            np.concatenate([part[2] for part in parts]),
            np.concatenate([part[3] for part in parts]),
            np.array(scalars, dtype=np.int64),
        )
        return self.checkpoints

    # -- queries (state after the last applied end of event) --------------------------------

    def level_of(self, side: int, price: float) -> int:
        """The level number of (side, price), or -1 when the price never occurs in the data."""
        prices = self.events.prices
        fixed = round(price * self.events.records.price_scale)
        i = int(np.searchsorted(prices, fixed))
        if i >= prices.shape[0] or prices[i] != fixed:
            return -1
        return 2 * i + (1 if side < 0 else 0)

    def orders_at(self, side: int, price: float) -> np.ndarray:
        """Sizes of the orders resting at (side, price), front of the queue first."""
        lv = self.level_of(side, price)
        if lv < 0:
            return np.zeros(0, np.int64)
        st = self.state
        return _K.level_sizes(lv, st["o_size"], st["o_next"], st["l_head"], st["l_count"])

    def order_count(self, side: int, price: float) -> int:
        lv = self.level_of(side, price)
        return 0 if lv < 0 else int(self.state["l_count"][lv])

    def size_at(self, side: int, price: float) -> int:
        lv = self.level_of(side, price)
        return 0 if lv < 0 else int(self.state["l_total"][lv])

    def size_ahead(self, side: int, price: float, prio: int) -> int:
        """Size at (side, price) that joined the queue before record ``prio``."""
        return self.size_ahead_at(self.level_of(side, price), prio)

    def size_ahead_at(self, level: int, prio: int) -> int:
        if level < 0:
            return 0
        st = self.state
        return int(_K.size_ahead(level, prio, st["o_size"], st["o_next"], st["o_prio"], st["l_head"]))

    def orders_of_levels(self, side: int, prices: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """For each price of ``side``: the order count and the first ``k`` order sizes (FIFO)."""
        grid = self.events.prices
        fixed = np.rint(np.asarray(prices, dtype=np.float64) * self.events.records.price_scale).astype(
            np.int64
        )
        i = np.minimum(np.searchsorted(grid, fixed), max(grid.shape[0] - 1, 0))
        found = (grid.shape[0] > 0) & (grid[i] == fixed) if grid.shape[0] else np.zeros(fixed.shape[0], bool)
        levels = np.where(found, 2 * i + (1 if side < 0 else 0), -1).astype(np.int32)
        st = self.state
        counts, sizes = _K.levels_orders(levels, k, st["o_size"], st["o_next"], st["l_head"], st["l_count"])
        return counts, sizes

    def levels(self, side: int, n: int) -> np.ndarray:
        """Up to n non-empty levels of a side, best first: rows (price, total size, order count)."""
        totals = self.state["l_total"][0 if side > 0 else 1 :: 2]
        counts = self.state["l_count"][0 if side > 0 else 1 :: 2]
        ranks = np.flatnonzero(counts > 0)
        ranks = ranks[::-1][:n] if side > 0 else ranks[:n]
        out = np.empty((ranks.shape[0], 3), dtype=np.float64)
        out[:, 0] = self.events.prices[ranks] / self.events.records.price_scale
        out[:, 1] = totals[ranks]
        out[:, 2] = counts[ranks]
        return out
