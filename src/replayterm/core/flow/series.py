"""Running series per bar: cumulative volume delta (CVD) and VWAP with its deviation bands.

Both accumulate from the start of the session (or the anchor), not from the first bar asked for,
so a bar shows the same value whichever range is looked at. CVD bars are candles of the running
buy-minus-sell volume: open at the previous close (0 at a session's start), high and low over the
bar's trades, close after its last trade. VWAP and its standard deviation come from exact integer
sums (``Σ lots``, ``Σ d·lots``, ``Σ d²·lots`` with ``d`` = tick − the grid's reference tick, the
last one wider than 64 bits), so they do not depend on how the trades were batched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from replayterm.core.flow.groups import Groups

TWO62 = float(1 << 62)


@dataclass(frozen=True)
class Cvd:
    open: np.ndarray  # lots
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray


@dataclass(frozen=True)
class Vwap:
    vwap: np.ndarray  # ticks (fractional), nan before the first trade
    sigma: np.ndarray  # ticks


@nb.njit(cache=True)
def _cvd(buy, sell, dmax, dmin, session, prior, out):
    run = 0
    prev = -(1 << 62)
    for b in range(buy.shape[0]):
        if session[b] != prev:
            run = prior[b]
            prev = session[b]
        out[b, 0] = run
        out[b, 1] = max(run, run + dmax[b])
        out[b, 2] = min(run, run + dmin[b])
        run += buy[b] - sell[b]
        out[b, 3] = run


def cvd_of(bars: Groups, session: np.ndarray, prior: np.ndarray) -> Cvd:
    """``session``: the session number of each bar; ``prior``: the delta accumulated in the bar's
    session before the first bar (only read at each session's first bar)."""
    out = np.zeros((len(bars), 4), dtype=np.int64)
    if len(bars):
        _cvd(bars.buy, bars.sell, bars.dmax, bars.dmin, session.astype(np.int64), prior.astype(np.int64), out)
    return Cvd(out[:, 0], out[:, 1], out[:, 2], out[:, 3])


@nb.njit(cache=True)
def _vwap(vol, s1, s2, s2_hi, session, prior, out):
    v = a = lo = hi = 0
    prev = -(1 << 62)
    for b in range(vol.shape[0]):
        if session[b] != prev:
            v, a, lo, hi = prior[b, 0], prior[b, 1], prior[b, 2], prior[b, 3]
            prev = session[b]
        v += vol[b]
        a += s1[b]
        lo += s2[b]
        hi += s2_hi[b]
        if lo >= 1 << 62:
            hi += lo >> 62
            lo &= (1 << 62) - 1
        if v > 0:
            mean = a / v
            second = (hi * 4611686018427387904.0 + lo) / v
            var = second - mean * mean
            out[b, 0] = mean
            out[b, 1] = np.sqrt(var) if var > 0 else 0.0
        else:
            out[b, 0] = np.nan
            out[b, 1] = np.nan


def sums_of(g: Groups) -> np.ndarray:
    """``[Σ lots, Σ d·lots, Σ d²·lots (low 62 bits), (high part)]`` of a table's rows."""
    vol = int((g.buy + g.sell + g.other).sum())
    lo = [int(x) for x in g.s2]
    total = sum(lo) + sum(int(x) << 62 for x in g.s2_hi)
    return np.array([vol, int(g.s1.sum()), total & ((1 << 62) - 1), total >> 62], dtype=np.int64)


def vwap_of(bars: Groups, session: np.ndarray, prior: np.ndarray, ref_tick: int) -> Vwap:
    """VWAP (in ticks) after each bar; ``prior`` is (bars × 4) sums from ``sums_of``."""
    out = np.zeros((len(bars), 2), dtype=np.float64)
    if len(bars):
        _vwap(
            bars.buy + bars.sell + bars.other,
            bars.s1,
            bars.s2,
            bars.s2_hi,
            session.astype(np.int64),
            prior.astype(np.int64),
            out,
        )
    return Vwap(out[:, 0] + ref_tick, out[:, 1])
