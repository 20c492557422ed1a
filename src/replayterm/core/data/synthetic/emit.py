"""Writing the simulated feed into the output columns: receive times, L2 groups, BBO rows."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from replayterm.core.data.synthetic.book import LOCKED
from replayterm.core.data.synthetic.params import P_LAT_MED, P_LAT_SIGMA
from replayterm.core.data.synthetic.state import (
    BOOK_WIDTH,
    F_SPIKE,
    F_T,
    S_BA,
    S_BASE,
    S_BB,
    S_FA,
    S_FB,
    S_LAST_LOCAL,
    S_MESSAGES,
    S_SNAPSHOTS,
    S_TK_AQ,
    S_TK_ASK,
    S_TK_BID,
    S_TK_BQ,
)


@nb.njit(cache=True, nogil=True)
def next_local(rng, ist, fst, prm, t: float) -> np.int64:
    lat = prm[P_LAT_MED] * math.exp(prm[P_LAT_SIGMA] * rng.standard_normal()) + fst[F_SPIKE]
    lo = np.int64(t + lat)
    if lo <= ist[S_LAST_LOCAL]:
        lo = ist[S_LAST_LOCAL] + 1
    ist[S_LAST_LOCAL] = lo
    return lo


@nb.njit(cache=True, nogil=True)
def exchange_ms(t: float) -> np.int64:
    return (np.int64(t) // 1000) * 1000


@nb.njit(cache=True, nogil=True)
def emit_ticker(amounts, ist, ex, lo, tk_ex, tk_lo, tk_bpx, tk_bq, tk_apx, tk_aq, n_tk: int) -> int:
    base = ist[S_BASE]
    bpx = base + ist[S_BB]
    bq = amounts[0, ist[S_BB]]
    apx = base + ist[S_BA]
    aq = amounts[1, ist[S_BA]]
    if bpx == ist[S_TK_BID] and bq == ist[S_TK_BQ] and apx == ist[S_TK_ASK] and aq == ist[S_TK_AQ]:
        return n_tk
    ist[S_TK_BID] = bpx
    ist[S_TK_BQ] = bq
    ist[S_TK_ASK] = apx
    ist[S_TK_AQ] = aq
    tk_ex[n_tk] = ex
    tk_lo[n_tk] = lo
    tk_bpx[n_tk] = bpx
    tk_bq[n_tk] = bq
    tk_apx[n_tk] = apx
    tk_aq[n_tk] = aq
    return n_tk + 1


@nb.njit(cache=True, nogil=True)
def emit_snapshot(rng, amounts, ist, fst, prm, l2_ex, l2_lo, l2_snap, l2_side, l2_px, l2_amt, n: int) -> int:
    """All levels as one snapshot group: asks from the best outwards, then bids likewise."""
    t = fst[F_T]
    ex = exchange_ms(t)
    lo = next_local(rng, ist, fst, prm, t)
    base = ist[S_BASE]
    for j in range(ist[S_BA], ist[S_FA] + 1):
        if amounts[1, j] > 0:
            l2_ex[n] = ex
            l2_lo[n] = lo
            l2_snap[n] = True
            l2_side[n] = 1
            l2_px[n] = base + j
            l2_amt[n] = amounts[1, j]
            n += 1
    for j in range(ist[S_BB], ist[S_FB] - 1, -1):
        if amounts[0, j] > 0:
            l2_ex[n] = ex
            l2_lo[n] = lo
            l2_snap[n] = True
            l2_side[n] = 0
            l2_px[n] = base + j
            l2_amt[n] = amounts[0, j]
            n += 1
    ist[S_SNAPSHOTS] += 1
    ist[S_MESSAGES] += 1
    return n


@nb.njit(cache=True, nogil=True)
def emit_message(amounts, ist, lo, ex, touched, nt, l2_ex, l2_lo, l2_snap, l2_side, l2_px, l2_amt, n):
    """The touched levels as one update group: bids by ascending price, then asks likewise."""
    keys = np.empty(nt, dtype=np.int64)
    for k in range(nt):
        keys[k] = touched[k] % LOCKED
    keys.sort()
    base = ist[S_BASE]
    for k in range(nt):
        side = keys[k] // BOOK_WIDTH
        idx = keys[k] % BOOK_WIDTH
        l2_ex[n] = ex
        l2_lo[n] = lo
        l2_snap[n] = False
        l2_side[n] = side
        l2_px[n] = base + idx
        l2_amt[n] = amounts[side, idx]
        n += 1
    ist[S_MESSAGES] += 1
    return n
