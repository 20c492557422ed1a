"""Rows of a ``Groups`` table merged into coarser ones: seconds into bars, bars into a profile.

``merge(groups, buckets, row_ticks)`` folds each run of rows with one bucket number into a single
row (open of the first, close of the last, extremes, sums, the running delta's extremes carried
across rows) and merges their cells into price rows of ``row_ticks`` ticks. Merging is exact
(integers), so merging in one go or in pieces (a stored part and a raw edge) gives the same table.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from replayterm.core.flow.groups import CELL_FIELDS, LOW62, ROW_FIELDS, Groups


@nb.njit(cache=True)
def _floor_div(a: int, b: int) -> int:
    return a // b  # numba's // on ints floors like Python's


@nb.njit(cache=True)
def _merge_kernel(rows, cells, buckets, row_ticks, with_cells, out_rows, out_cells):
    n = rows.shape[0]
    nr = 0
    nc = 0
    i = 0
    dense = np.zeros((0, 4), dtype=np.int64)
    while i < n:
        j = i + 1
        while j < n and buckets[j] == buckets[i]:
            j += 1
        o = out_rows[nr]
        first = rows[i]
        o[0] = first[0]
        o[1] = rows[j - 1][1]
        o[2] = buckets[i]
        o[3] = first[3]
        o[5] = first[5]
        o[8] = rows[j - 1][8]
        hi = first[6]
        lo = first[7]
        n_tr = 0
        buy = sell = other = buy_n = sell_n = s1 = s2 = s2_hi = 0
        cum = 0
        dmax = -(1 << 62)
        dmin = 1 << 62
        for t in range(i, j):
            r = rows[t]
            if r[6] > hi:
                hi = r[6]
            if r[7] < lo:
                lo = r[7]
            n_tr += r[4]
            buy += r[9]
            sell += r[10]
            other += r[11]
            buy_n += r[12]
            sell_n += r[13]
            s1 += r[14]
            s2 += r[15]
            s2_hi += r[16]
            if s2 >= LOW62:
                s2_hi += s2 >> 62
                s2 &= LOW62 - 1
            if cum + r[17] > dmax:
                dmax = cum + r[17]
            if cum + r[18] < dmin:
                dmin = cum + r[18]
            cum += r[9] - r[10]
        o[4] = n_tr
        o[6] = hi
        o[7] = lo
        o[9] = buy
        o[10] = sell
        o[11] = other
        o[12] = buy_n
        o[13] = sell_n
        o[14] = s1
        o[15] = s2
        o[16] = s2_hi
        o[17] = dmax
        o[18] = dmin
        o[19] = nc
        if with_cells:
            base = _floor_div(lo, row_ticks)
            width = _floor_div(hi, row_ticks) - base + 1
            if dense.shape[0] < width:
                dense = np.zeros((width, 4), dtype=np.int64)
            else:
                dense[:width] = 0
            for t in range(i, j):
                r = rows[t]
                for c in range(r[19], r[19] + r[20]):
                    cell = cells[c]
                    k = _floor_div(cell[0], row_ticks) - base
                    dense[k, 0] += cell[1]
                    dense[k, 1] += cell[2]
                    dense[k, 2] += cell[3]
                    dense[k, 3] += cell[4]
            for k in range(width):
                if dense[k, 3] > 0:
                    oc = out_cells[nc]
                    oc[0] = (base + k) * row_ticks
                    oc[1] = dense[k, 0]
                    oc[2] = dense[k, 1]
                    oc[3] = dense[k, 2]
                    oc[4] = dense[k, 3]
                    nc += 1
        o[20] = nc - o[19]
        nr += 1
        i = j
    return nr, nc


def _row_matrix(g: Groups) -> np.ndarray:
    return np.stack(g.rows, axis=1) if len(g) else np.zeros((0, len(ROW_FIELDS)), dtype=np.int64)


def merge(groups: Groups, buckets: np.ndarray, row_ticks: int = 1, with_cells: bool = True) -> Groups:
    """Runs of equal ``buckets`` (one per row, non-decreasing) as one row each. Cell ticks become
    the lower edge of their ``row_ticks``-tick price row (``floor(tick / row_ticks) * row_ticks``)."""
    n = len(groups)
    if n == 0:
        return Groups.empty()
    rows = _row_matrix(groups)
    if with_cells:
        lo = int(groups.cell_lo.min())
        hi = int((groups.cell_lo + groups.n_cells).max())
        cells = np.stack([a[lo:hi] for a in groups.cells], axis=1)
        rows[:, 19] -= lo
    else:
        cells = np.zeros((0, len(CELL_FIELDS)), dtype=np.int64)
    buckets = np.ascontiguousarray(buckets, dtype=np.int64)
    n_out = int(np.count_nonzero(np.diff(buckets))) + 1
    if with_cells:
        # merged cells never outnumber the price rows each bar spans
        spans = _bucket_span(rows, buckets, n_out, row_ticks)
        n_cells_out = min(int(spans), cells.shape[0])
    else:
        n_cells_out = 0
    out_rows = np.empty((n_out, len(ROW_FIELDS)), dtype=np.int64)
    out_cells = np.empty((n_cells_out, len(CELL_FIELDS)), dtype=np.int64)
    nr, nc = _merge_kernel(rows, cells, buckets, np.int64(max(1, row_ticks)), with_cells, out_rows, out_cells)
    parts = {name: out_rows[:nr, i] for i, name in enumerate(ROW_FIELDS)}
    parts.update({name: out_cells[:nc, i] for i, name in enumerate(CELL_FIELDS)})
    return Groups(**parts)


def _bucket_span(rows: np.ndarray, buckets: np.ndarray, n_out: int, row_ticks: int) -> int:
    starts = np.flatnonzero(np.r_[True, buckets[1:] != buckets[:-1]])
    hi = np.maximum.reduceat(rows[:, 6], starts) // row_ticks
    lo = np.minimum.reduceat(rows[:, 7], starts) // row_ticks
    return int((hi - lo + 1).sum())
