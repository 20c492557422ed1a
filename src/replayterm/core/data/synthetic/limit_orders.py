"""Limit-order events of the market model: target level shapes and the operations that move
the book towards them (near the fair mid, at the touch, deep in the book, at the far end).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from replayterm.core.data.synthetic.book import is_locked, set_level, touch
from replayterm.core.data.synthetic.params import (
    P_LEVELS,
    P_NEAR_MEAN,
    P_NEAR_SHIFT,
    P_OCC_FAR,
    P_OCC_LEN,
    P_OCC_NEAR,
    P_SIZE_FAR,
    P_SIZE_LEN,
    P_SIZE_SIGMA,
    P_SIZE_TOUCH,
    P_WALL_MULT,
    P_WALL_PROB,
)
from replayterm.core.data.synthetic.state import (
    BOOK_WIDTH,
    S_BA,
    S_BASE,
    S_BB,
    S_FA,
    S_FB,
    S_NA,
    S_NB,
    S_REF,
)


@nb.njit(cache=True, nogil=True)
def _occupancy(prm: np.ndarray, d: float) -> float:
    if d < 0:
        return 0.0
    near = prm[P_OCC_NEAR]
    far = prm[P_OCC_FAR]
    return far + (near - far) * math.exp(-d / prm[P_OCC_LEN])


@nb.njit(cache=True, nogil=True)
def _median_size(prm: np.ndarray, d: float) -> float:
    touch = prm[P_SIZE_TOUCH]
    far = prm[P_SIZE_FAR]
    return far + (touch - far) * math.exp(-max(d, 0.0) / prm[P_SIZE_LEN])


@nb.njit(cache=True, nogil=True)
def _level_size(rng: np.random.Generator, prm: np.ndarray, d: float) -> np.int64:
    x = _median_size(prm, d) * math.exp(prm[P_SIZE_SIGMA] * rng.standard_normal())
    if rng.random() < prm[P_WALL_PROB]:
        x *= prm[P_WALL_MULT]
    return np.int64(max(1.0, x))


@nb.njit(cache=True, nogil=True)
def _resample(
    rng: np.random.Generator,
    amounts: np.ndarray,
    ist: np.ndarray,
    prm: np.ndarray,
    side: int,
    idx: int,
    d: float,
    touched: np.ndarray,
    nt: int,
) -> int:
    """One limit-order event at one level, pulling it towards the target occupancy at distance d."""
    if idx < 1 or idx >= BOOK_WIDTH - 1:
        return nt
    if side == 0 and idx >= ist[S_BA]:
        return nt  # a bid there would cross or lock the book
    if side == 1 and idx <= ist[S_BB]:
        return nt
    if is_locked(touched, nt, side, idx):
        return nt
    q = _occupancy(prm, d)
    cur = amounts[side, idx]
    if cur == 0:
        if rng.random() < q:
            set_level(amounts, ist, side, idx, _level_size(rng, prm, d))
            nt = touch(touched, nt, side, idx, False)
        return nt
    if d < 0:
        # A quote on the wrong side of the fair mid: its owner pulls most or all of it.
        new = np.int64(cur * rng.uniform(-0.3, 0.3)) if cur > 1 else np.int64(0)
        new = max(new, np.int64(0))
    elif rng.random() >= q:
        new = np.int64(0)
    elif rng.random() < 0.5:
        new = cur + max(np.int64(1), _level_size(rng, prm, d) // 2)
    else:
        new = cur - max(np.int64(1), np.int64(cur * rng.uniform(0.1, 0.9)))
    set_level(amounts, ist, side, idx, new)
    return touch(touched, nt, side, idx, False)


@nb.njit(cache=True, nogil=True)
def _fair_bid(ist: np.ndarray) -> int:
    """Index of the natural best bid for the current fair mid (the natural ask is one above)."""
    return int(ist[S_REF] - ist[S_BASE])


@nb.njit(cache=True, nogil=True)
def _op_near(rng, amounts, ist, prm, side: int, touched, nt: int) -> int:
    b0 = _fair_bid(ist)
    d = int(rng.exponential(prm[P_NEAR_MEAN])) - int(prm[P_NEAR_SHIFT])
    idx = b0 - d if side == 0 else b0 + 1 + d
    return _resample(rng, amounts, ist, prm, side, idx, float(d), touched, nt)


@nb.njit(cache=True, nogil=True)
def _op_touch(rng, amounts, ist, prm, side: int, touched, nt: int) -> int:
    """Pull a best quote that is on the wrong side of the fair mid, or step up to the fair touch."""
    b0 = _fair_bid(ist)
    if side == 0:
        if ist[S_BB] > b0:
            return _resample(rng, amounts, ist, prm, 0, ist[S_BB], float(b0 - ist[S_BB]), touched, nt)
        idx = min(b0, ist[S_BA] - 1)
        if idx <= ist[S_BB]:
            return nt
        d = b0 - idx
    else:
        if ist[S_BA] < b0 + 1:
            return _resample(rng, amounts, ist, prm, 1, ist[S_BA], float(ist[S_BA] - b0 - 1), touched, nt)
        idx = max(b0 + 1, ist[S_BB] + 1)
        if idx >= ist[S_BA]:
            return nt
        d = idx - b0 - 1
    if is_locked(touched, nt, side, idx):
        return nt
    set_level(amounts, ist, side, idx, _level_size(rng, prm, float(d)))
    return touch(touched, nt, side, idx, False)


@nb.njit(cache=True, nogil=True)
def _op_deep(rng, amounts, ist, prm, side: int, touched, nt: int) -> int:
    b0 = _fair_bid(ist)
    if side == 0:
        lo, hi = ist[S_FB], ist[S_BB] - 30
        if hi <= lo:
            return nt
        idx = int(rng.integers(lo, hi + 1))
        d = b0 - idx
    else:
        lo, hi = ist[S_BA] + 30, ist[S_FA]
        if hi <= lo:
            return nt
        idx = int(rng.integers(lo, hi + 1))
        d = idx - b0 - 1
    return _resample(rng, amounts, ist, prm, side, idx, float(d), touched, nt)


@nb.njit(cache=True, nogil=True)
def _op_maintain(rng, amounts, ist, prm, side: int, touched, nt: int) -> int:
    """Delete the farthest level or add one beyond it, steering the side towards N levels."""
    target = int(prm[P_LEVELS])
    count = ist[S_NB] if side == 0 else ist[S_NA]
    if count == target:
        return nt
    far = ist[S_FB] if side == 0 else ist[S_FA]
    if is_locked(touched, nt, side, far):
        return nt
    if count > target:
        set_level(amounts, ist, side, far, np.int64(0))
        return touch(touched, nt, side, far, False)
    gap = 1 + int(rng.exponential(1.0 / prm[P_OCC_FAR] - 1.0))
    idx = far - gap if side == 0 else far + gap
    if idx < 1 or idx >= BOOK_WIDTH - 1:
        return nt
    b0 = _fair_bid(ist)
    d = b0 - idx if side == 0 else idx - b0 - 1
    set_level(amounts, ist, side, idx, _level_size(rng, prm, float(d)))
    return touch(touched, nt, side, idx, False)
