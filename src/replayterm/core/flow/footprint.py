"""Footprint (cluster) bars: volume at each price row of each bar, split by aggressor.

Per bar and row (``row_ticks`` ticks, rows aligned on multiples of it): ask volume (bought by
aggressive buyers, lifted at the ask), bid volume (sold into the bid), delta and total. Diagonal
imbalance compares a row's ask volume with the bid volume one row below (buyers lifting offers
harder than sellers hit the bids just under them), and a row's bid volume with the ask volume one
row above; a row is imbalanced when its side is at least ``ratio`` times the other (a zero other
side counts as imbalanced inside the bar's range; rows outside the range are not compared). Three
or more consecutive imbalanced rows on one side are a stacked imbalance. The point of control is
the row with the most volume (ties: the row nearest the middle of the bar's range, then the lower).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from replayterm.core.flow.groups import Groups

BUY_IMBALANCE = 1
SELL_IMBALANCE = 2
STACKED_BUY = 4
STACKED_SELL = 8


@nb.njit(cache=True)
def _imbalances(cell_lo, n_cells, tick, buy, sell, other, row_ticks, ratio, stack, flags, poc):
    for b in range(cell_lo.shape[0]):
        lo = cell_lo[b]
        hi = lo + n_cells[b]
        best = -1
        best_vol = -1
        mid2 = tick[lo] + tick[hi - 1]  # twice the middle row's tick, for exact comparisons
        for c in range(lo, hi):
            f = 0
            # the row below inside the bar, if traded
            below_sell = 0
            has_below = tick[c] > tick[lo]
            if c > lo and tick[c - 1] == tick[c] - row_ticks:
                below_sell = sell[c - 1]
            if has_below and buy[c] > 0 and buy[c] >= ratio * below_sell:
                f |= 1
            above_buy = 0
            has_above = tick[c] < tick[hi - 1]
            if c + 1 < hi and tick[c + 1] == tick[c] + row_ticks:
                above_buy = buy[c + 1]
            if has_above and sell[c] > 0 and sell[c] >= ratio * above_buy:
                f |= 2
            flags[c] = f
            vol = buy[c] + sell[c] + other[c]
            if vol > best_vol or (vol == best_vol and abs(2 * tick[c] - mid2) < abs(2 * tick[best] - mid2)):
                best = c
                best_vol = vol
        poc[b] = tick[best] if best >= 0 else 0
        for bit, stacked in ((1, 4), (2, 8)):
            c = lo
            while c < hi:
                if flags[c] & bit:
                    e = c + 1
                    while e < hi and flags[e] & bit and tick[e] == tick[e - 1] + row_ticks:
                        e += 1
                    if e - c >= stack:
                        for k in range(c, e):
                            flags[k] |= stacked
                    c = e
                else:
                    c += 1


@dataclass(frozen=True)
class Footprint:
    """Bars (a ``Groups`` with cells per price row) plus each cell's imbalance flags and each bar's
    point of control (lower edge of the row, in ticks)."""

    bars: Groups
    row_ticks: int
    flags: np.ndarray
    poc: np.ndarray
    ratio: float
    stack: int


def footprint_of(bars: Groups, row_ticks: int, ratio: float = 3.0, stack: int = 3) -> Footprint:
    flags = np.zeros(bars.c_tick.shape[0], dtype=np.int64)
    poc = np.zeros(len(bars), dtype=np.int64)
    if len(bars):
        _imbalances(
            bars.cell_lo,
            bars.n_cells,
            np.ascontiguousarray(bars.c_tick),
            np.ascontiguousarray(bars.c_buy),
            np.ascontiguousarray(bars.c_sell),
            np.ascontiguousarray(bars.c_other),
            np.int64(row_ticks),
            float(ratio),
            np.int64(stack),
            flags,
            poc,
        )
    return Footprint(bars, row_ticks, flags, poc, ratio, stack)
