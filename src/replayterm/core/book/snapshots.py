"""Computed book snapshots: the top ``depth`` levels sampled along a replay (the export feature).

``sample_tops`` replays message groups and, at each requested sample group, takes the top
``depth`` levels of both sides; a row is kept only when those levels differ from the last kept
row. Everything runs in one compiled loop, so exporting a snapshot after every message costs
about as much as the replay itself.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from replayterm.core.book.kernel import ASK_HI, BEST_ASK, BEST_BID, BID_LO, POS, _run


@nb.njit(cache=True, nogil=True)
def _top_into(prices, book, st, depth, row_px, row_amt):
    """Fill one row: columns 2j / 2j+1 are ask j and bid j (Tardis order), NaN where missing."""
    row_px[:] = np.nan
    row_amt[:] = np.nan
    bid = book[0]
    ask = book[1]
    i = st[BEST_ASK]
    k = 0
    if i >= 0:
        while k < depth and i <= st[ASK_HI]:
            if ask[i] != 0.0:
                row_px[2 * k] = prices[i]
                row_amt[2 * k] = ask[i]
                k += 1
            i += 1
    i = st[BEST_BID]
    k = 0
    if i >= 0:
        while k < depth and i >= st[BID_LO]:
            if bid[i] != 0.0:
                row_px[2 * k + 1] = prices[i]
                row_amt[2 * k + 1] = bid[i]
                k += 1
            i -= 1


@nb.njit(cache=True, nogil=True)
def _same_row(a_px, a_amt, b_px, b_amt):
    for j in range(a_px.shape[0]):
        x, y = a_px[j], b_px[j]
        if x != y and not (x != x and y != y):
            return False
        x, y = a_amt[j], b_amt[j]
        if x != y and not (x != x and y != y):
            return False
    return True


@nb.njit(cache=True, nogil=True)
def sample_tops(
    groups, key, amount, prices, book, st, sample_groups, depth, out_px, out_amt, out_group, has_last
):
    """Replay up to and including each ``sample_groups[s]``; keep rows whose top levels changed.

    ``out_px``/``out_amt`` are (n_samples + 1, 2 * depth); their row 0 is the previously kept
    row (``has_last`` says whether there is one). Kept rows land in rows 1..n and their group
    index in ``out_group``. Returns how many rows were kept.
    """
    empty_log = st[:0]
    empty_best = key[:0]
    empty_amt = np.empty(0, dtype=np.float64)
    n = 0
    last = 0
    for s in range(sample_groups.shape[0]):
        g = sample_groups[s]
        if g + 1 > st[POS]:
            _run(groups, key, amount, book, st, g + 1, empty_log, empty_best, empty_amt)
        _top_into(prices, book, st, depth, out_px[n + 1], out_amt[n + 1])
        if has_last and _same_row(out_px[n + 1], out_amt[n + 1], out_px[last], out_amt[last]):
            continue
        n += 1
        last = n
        has_last = True
        out_group[n - 1] = g
    return n
