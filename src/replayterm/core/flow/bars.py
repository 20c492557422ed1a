"""Bars of any kind over any range, merged from the 1-second table (time) or the trades (others).

Time bars are aligned to UTC (a 1-minute bar starts on the minute, a 1-day bar at midnight) and
keyed by their start. Tick, volume and notional bars are counted from the first trade of the data,
never from the asked range, so a bar is the same bar whatever range or moment it is looked at
from: a volume bar closes on the trade that brings it to its size (that trade is not split), and
the next trade opens the next bar. Their boundaries (first trade row of each bar) are computed in
one pass and kept on the index (``FlowIndex.bar_starts``).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from replayterm.core.flow.grid import WINDOW_ROWS
from replayterm.core.flow.groups import US, Groups, concat
from replayterm.core.flow.index import FlowIndex, raw_groups
from replayterm.core.flow.merge import merge
from replayterm.core.flow.spec import BarSpec


@nb.njit(cache=True)
def _size_bar_starts(
    values: np.ndarray, threshold: int, carry: np.ndarray, row0: int, out: np.ndarray
) -> int:
    """Rows that open a new bar; ``carry[0]`` is the open bar's running size (-1: none open)."""
    n = 0
    acc = carry[0]
    for i in range(values.shape[0]):
        if acc < 0 or acc >= threshold:
            out[n] = row0 + i
            n += 1
            acc = 0
        acc += values[i]
    carry[0] = acc
    return n


def bar_starts(index: FlowIndex, spec: BarSpec) -> np.ndarray:
    """First trade row of every tick/volume/notional bar of the whole data (kept on the index)."""
    cache = index.__dict__.setdefault("_bar_starts", {})
    if spec.text in cache:
        return cache[spec.text]
    n = len(index.trades)
    grid = index.grid
    if spec.kind == "tick":
        starts = np.arange(0, n, int(spec.size), dtype=np.int64)
    else:
        threshold = (
            max(1, round(spec.size * 10**grid.size_decimals))
            if spec.kind == "volume"
            else grid.notional_units(spec.size)
        )
        carry = np.array([-1], dtype=np.int64)
        parts = []
        for lo in range(0, n, WINDOW_ROWS):
            hi = min(lo + WINDOW_ROWS, n)
            lots = grid.lots(index.trades.amount[lo:hi])
            values = lots if spec.kind == "volume" else lots * grid.ticks(index.trades.price[lo:hi])
            out = np.empty(hi - lo, dtype=np.int64)
            k = _size_bar_starts(values, int(threshold), carry, lo, out)
            parts.append(out[:k].copy())
        starts = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    cache[spec.text] = starts
    return starts


PIECE_ROWS = 1 << 16


def time_buckets(keys_s: np.ndarray, width_s: int, offset_s: int = 0) -> np.ndarray:
    """The bucket of each 1-second row: ``floor((second - offset) / width)``."""
    return (keys_s - offset_s) // width_s


def merged_range(
    index: FlowIndex,
    start: int,
    end: int,
    width_s: int,
    offset_s: int = 0,
    row_ticks: int = 1,
    with_cells: bool = True,
    window_s: int | None = None,
) -> Groups:
    """The trades in ``[start, end]`` merged into buckets of ``width_s`` seconds (keyed by bucket;
    only the first ``window_s`` seconds of each bucket count when given)."""
    parts = []
    for whole in index.segments(start, end):
        # piece by piece: the stored table is mapped, and only one piece of it is copied at a time
        for lo in range(0, len(whole), PIECE_ROWS):
            seg = whole.slice(lo, min(lo + PIECE_ROWS, len(whole)))
            if window_s is not None:
                keep = (seg.key - offset_s) % width_s < window_s
                if not keep.all():
                    seg = _rows(seg, np.flatnonzero(keep))
                    if not len(seg):
                        continue
            parts.append(merge(seg, time_buckets(seg.key, width_s, offset_s), row_ticks, with_cells))
    joined = concat(parts)
    return merge(joined, joined.key, row_ticks, with_cells) if len(parts) > 1 else joined


def _rows(g: Groups, take: np.ndarray) -> Groups:
    from replayterm.core.flow.groups import CELL_FIELDS, ROW_FIELDS

    parts = {n: getattr(g, n)[take] for n in ROW_FIELDS}
    return Groups(**parts, **{n: getattr(g, n) for n in CELL_FIELDS})


def compute_bars(
    index: FlowIndex,
    spec: BarSpec,
    start: int | None = None,
    end: int | None = None,
    row_ticks: int = 1,
    with_cells: bool = False,
) -> Groups:
    """Bars of ``spec`` over the trades with ``start <= local_ts <= end`` (whole data by default).
    ``key`` is the bar's start in seconds (time bars) or its number (others)."""
    span = index.span
    if span is None:
        return Groups.empty()
    start = span[0] if start is None else start
    end = span[1] if end is None else end
    if spec.is_time:
        return merged_range(index, start, end, int(spec.size), 0, row_ticks, with_cells)
    starts = bar_starts(index, spec)
    r0 = index.trades.count_before(start)
    r1 = index.trades.count_through(end)

    def bar_of(_ts: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return np.searchsorted(starts, rows, side="right").astype(np.int64) - 1

    raw = raw_groups(index.trades, index.grid, r0, r1, bar_of)
    return merge(raw, raw.key, row_ticks, with_cells)


def bar_start_us(bars: Groups, spec: BarSpec) -> np.ndarray:
    """When each bar starts: its aligned start (time bars) or its first trade's time (others)."""
    if spec.is_time:
        return bars.key * int(spec.size) * US
    return bars.t_first.copy()
