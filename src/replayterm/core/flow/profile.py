"""Volume profile of a range: volume at each price row, point of control and value area.

The point of control (POC) is the row with the most volume (ties: nearest the middle of the range,
then the lower). The value area grows from the POC one row at a time towards the side whose next
row holds more volume (both at once when equal) until it holds ``value_area`` of the volume; VAH
and VAL are its highest and lowest rows. Rows are ``row_ticks`` ticks (lower edge shown).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from replayterm.core.flow.groups import Groups


@dataclass(frozen=True)
class Profile:
    start: int  # the range (µs, inclusive)
    end: int
    row_ticks: int
    ticks: np.ndarray  # row lower edges, ascending (traded rows only)
    buy: np.ndarray  # lots
    sell: np.ndarray
    other: np.ndarray
    poc: int | None  # ticks
    vah: int | None
    val: int | None
    value_area: float
    low: int | None  # traded range in ticks
    high: int | None

    @property
    def total(self) -> np.ndarray:
        return self.buy + self.sell + self.other

    @property
    def volume(self) -> int:
        return int(self.total.sum())


def profile_of(merged: Groups, start: int, end: int, row_ticks: int, value_area: float = 0.7) -> Profile:
    """The profile of a range merged into one row (``merge`` with a single bucket)."""
    if len(merged) == 0:
        z = np.zeros(0, dtype=np.int64)
        return Profile(start, end, row_ticks, z, z, z, z, None, None, None, value_area, None, None)
    lo, hi = int(merged.cell_lo[0]), int(merged.cell_lo[0] + merged.n_cells[0])
    ticks = np.asarray(merged.c_tick[lo:hi])
    buy, sell, other = (np.asarray(a[lo:hi]) for a in (merged.c_buy, merged.c_sell, merged.c_other))
    poc, vah, val = point_of_control(ticks, buy + sell + other, row_ticks, value_area)
    return Profile(
        start,
        end,
        row_ticks,
        ticks,
        buy,
        sell,
        other,
        poc,
        vah,
        val,
        value_area,
        int(merged.low[0]),
        int(merged.high[0]),
    )


def point_of_control(
    ticks: np.ndarray, total: np.ndarray, row_ticks: int, share: float
) -> tuple[int, int, int]:
    """(POC, VAH, VAL) in ticks of a profile given as traded rows (ascending lower edges)."""
    base = int(ticks[0]) // row_ticks
    dense = np.zeros(int(ticks[-1]) // row_ticks - base + 1, dtype=np.int64)
    dense[ticks // row_ticks - base] = total
    peak = int(dense.max())
    candidates = np.flatnonzero(dense == peak)
    mid2 = len(dense) - 1  # twice the middle index
    poc = int(candidates[np.argmin(np.abs(2 * candidates - mid2))])
    target = share * int(dense.sum())
    up = down = poc
    acc = int(dense[poc])
    while acc < target and (down > 0 or up < len(dense) - 1):
        above = int(dense[up + 1]) if up < len(dense) - 1 else -1
        below = int(dense[down - 1]) if down > 0 else -1
        if above >= below:
            up += 1
            acc += above
        if below >= above:
            down -= 1
            acc += below
    to_ticks = lambda i: (base + i) * row_ticks  # noqa: E731
    return to_ticks(poc), to_ticks(up), to_ticks(down)
