"""Trades folded into groups: one row per second (or per bar) with its cells (one per price).

A ``Groups`` table is the unit every order-flow figure is computed from. Each row covers a run of
consecutive trades with one key (the second they were received in, or the bar they belong to):
open/high/low/close in ticks, volume in lots split by aggressor (buy, sell, unknown), trade
counts, ``s1``/``s2`` (sums of ``(tick - ref) × lots`` and ``(tick - ref)² × lots``, for VWAP and
its deviation) and the running delta's extremes inside the row (CVD candles). Its cells are the
row's volume at each price, sorted by tick.

The stored 1-second table (``flow.index``) is one of these; so is the partial second at the edge
of a query, built from the raw trades with the same kernel, so both paths give the same integers.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numba as nb
import numpy as np

ROW_FIELDS: dict[str, type] = {
    "t_first": np.int64,  # local_ts of the first and last trade of the row
    "t_last": np.int64,
    "key": np.int64,  # the second (local_ts // 1e6) or bar number
    "row_lo": np.int64,  # first trade row of the run
    "n_trades": np.int64,
    "open": np.int64,
    "high": np.int64,
    "low": np.int64,
    "close": np.int64,
    "buy": np.int64,
    "sell": np.int64,
    "other": np.int64,
    "buy_n": np.int64,
    "sell_n": np.int64,
    "s1": np.int64,
    "s2": np.int64,  # low 62 bits of the sum of squares ...
    "s2_hi": np.int64,  # ... and the multiples of 2**62 above them (exact at any size)
    "dmax": np.int64,  # the running buy-minus-sell after each trade of the row: max and min
    "dmin": np.int64,
    "cell_lo": np.int64,
    "n_cells": np.int64,
}
CELL_FIELDS: dict[str, type] = {
    "c_tick": np.int64,
    "c_buy": np.int64,
    "c_sell": np.int64,
    "c_other": np.int64,
    "c_n": np.int64,
}
US = 1_000_000
LOW62 = 1 << 62


@dataclass
class Groups:
    t_first: np.ndarray
    t_last: np.ndarray
    key: np.ndarray
    row_lo: np.ndarray
    n_trades: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    buy: np.ndarray
    sell: np.ndarray
    other: np.ndarray
    buy_n: np.ndarray
    sell_n: np.ndarray
    s1: np.ndarray
    s2: np.ndarray
    s2_hi: np.ndarray
    dmax: np.ndarray
    dmin: np.ndarray
    cell_lo: np.ndarray
    n_cells: np.ndarray
    c_tick: np.ndarray
    c_buy: np.ndarray
    c_sell: np.ndarray
    c_other: np.ndarray
    c_n: np.ndarray

    def __len__(self) -> int:
        return int(self.key.shape[0])

    @property
    def rows(self) -> tuple[np.ndarray, ...]:
        return tuple(getattr(self, n) for n in ROW_FIELDS)

    @property
    def cells(self) -> tuple[np.ndarray, ...]:
        return tuple(getattr(self, n) for n in CELL_FIELDS)

    def slice(self, lo: int, hi: int) -> Groups:
        """Rows ``[lo, hi)`` and their cells (views; ``cell_lo`` keeps pointing into the cells
        of the whole table, so the cell arrays stay the whole table's)."""
        parts = {n: getattr(self, n)[lo:hi] for n in ROW_FIELDS}
        return Groups(**parts, **{n: getattr(self, n) for n in CELL_FIELDS})

    @staticmethod
    def empty() -> Groups:
        return Groups(**{f.name: np.zeros(0, dtype=np.int64) for f in fields(Groups)})


@nb.njit(cache=True)
def _group_kernel(ts, ticks, lots, side, keys, ref, row0, rows, cells):
    """Fold runs of equal ``keys`` into ``rows`` (n × len(ROW_FIELDS)) and ``cells`` (m × 5).
    Returns (n rows, m cells)."""
    n = ts.shape[0]
    nr = 0
    nc = 0
    i = 0
    single = np.zeros(1, dtype=np.int64)
    while i < n:
        j = i + 1
        while j < n and keys[j] == keys[i]:
            j += 1
        hi = ticks[i]
        lo = ticks[i]
        buy = sell = other = 0
        buy_n = sell_n = 0
        s1 = s2 = s2_hi = 0
        run = 0
        dmax = -(1 << 62)
        dmin = 1 << 62
        for t in range(i, j):
            p = ticks[t]
            q = lots[t]
            if p > hi:
                hi = p
            if p < lo:
                lo = p
            if side[t] > 0:
                buy += q
                buy_n += 1
                run += q
            elif side[t] < 0:
                sell += q
                sell_n += 1
                run -= q
            else:
                other += q
            d = p - ref
            s1 += d * q
            s2 += d * d * q
            if s2 >= LOW62:
                s2_hi += s2 >> 62
                s2 &= LOW62 - 1
            if run > dmax:
                dmax = run
            if run < dmin:
                dmin = run
        r = rows[nr]
        r[0] = ts[i]
        r[1] = ts[j - 1]
        r[2] = keys[i]
        r[3] = row0 + i
        r[4] = j - i
        r[5] = ticks[i]
        r[6] = hi
        r[7] = lo
        r[8] = ticks[j - 1]
        r[9] = buy
        r[10] = sell
        r[11] = other
        r[12] = buy_n
        r[13] = sell_n
        r[14] = s1
        r[15] = s2
        r[16] = s2_hi
        r[17] = dmax
        r[18] = dmin
        r[19] = nc
        if j - i == 1:
            order = single
        else:
            order = np.argsort(ticks[i:j], kind="mergesort")
        k = 0
        while k < j - i:
            t = i + order[k]
            p = ticks[t]
            c = cells[nc]
            c[0] = p
            c[1] = 0
            c[2] = 0
            c[3] = 0
            c[4] = 0
            while k < j - i and ticks[i + order[k]] == p:
                t = i + order[k]
                if side[t] > 0:
                    c[1] += lots[t]
                elif side[t] < 0:
                    c[2] += lots[t]
                else:
                    c[3] += lots[t]
                c[4] += 1
                k += 1
            nc += 1
        r[20] = nc - r[19]
        nr += 1
        i = j
    return nr, nc


def group_trades(
    ts: np.ndarray,
    ticks: np.ndarray,
    lots: np.ndarray,
    side: np.ndarray,
    keys: np.ndarray,
    ref: int,
    row0: int = 0,
) -> Groups:
    """Fold trades (already converted to ticks and lots) into groups of equal consecutive keys."""
    n = int(ts.shape[0])
    rows = np.empty((n, len(ROW_FIELDS)), dtype=np.int64)
    cells = np.empty((n, len(CELL_FIELDS)), dtype=np.int64)
    nr, nc = _group_kernel(
        np.ascontiguousarray(ts, dtype=np.int64),
        np.ascontiguousarray(ticks, dtype=np.int64),
        np.ascontiguousarray(lots, dtype=np.int64),
        np.ascontiguousarray(side, dtype=np.int8),
        np.ascontiguousarray(keys, dtype=np.int64),
        np.int64(ref),
        np.int64(row0),
        rows,
        cells,
    )
    parts = {name: rows[:nr, i].copy() for i, name in enumerate(ROW_FIELDS)}
    parts.update({name: cells[:nc, i].copy() for i, name in enumerate(CELL_FIELDS)})
    return Groups(**parts)


def concat(tables: list[Groups]) -> Groups:
    """Several tables one after the other (cell offsets shifted); adjacent rows stay separate."""
    tables = [t for t in tables if len(t)]
    if not tables:
        return Groups.empty()
    if len(tables) == 1:
        return tables[0]
    out: dict[str, np.ndarray] = {}
    shift = 0
    lows = []
    for t in tables:
        lows.append(t.cell_lo - int(t.cell_lo[0]) + shift)
        shift += int(t.cell_lo[-1] + t.n_cells[-1] - t.cell_lo[0])
    for name in ROW_FIELDS:
        out[name] = np.concatenate([getattr(t, name) for t in tables])
    out["cell_lo"] = np.concatenate(lows)
    for name in CELL_FIELDS:
        out[name] = np.concatenate(
            [getattr(t, name)[int(t.cell_lo[0]) : int(t.cell_lo[-1] + t.n_cells[-1])] for t in tables]
        )
    return Groups(**out)
