"""The simulator's true order book: int64 lot amounts on a tick grid, both sides in one array.

``amounts[side, index]`` with side 0 bid, 1 ask; index = price in ticks - ``ist[S_BASE]``. The
helpers keep best, farthest and level count of each side right on every change, and keep the
list of levels touched by the message being built.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from replayterm.core.data.synthetic.state import BOOK_WIDTH, S_BA, S_BASE, S_BB, S_FA, S_FB, S_NA, S_NB

MARGIN = BOOK_WIDTH // 8  # recentre the window when the book's far end comes this close to an edge
LOCKED = 1 << 20  # touched-list flag: a level traded in this message, refill events skip it


@nb.njit(cache=True, nogil=True)
def set_level(amounts: np.ndarray, ist: np.ndarray, side: int, idx: int, new: np.int64) -> None:
    """Set one level and keep best, farthest and count of that side right. Never empties a side."""
    old = amounts[side, idx]
    if side == 0:
        if new == 0 and old > 0 and ist[S_NB] <= 1:
            new = np.int64(1)
        amounts[0, idx] = new
        if old == 0 and new > 0:
            ist[S_NB] += 1
            if idx > ist[S_BB]:
                ist[S_BB] = idx
            if idx < ist[S_FB]:
                ist[S_FB] = idx
        elif old > 0 and new == 0:
            ist[S_NB] -= 1
            if idx == ist[S_BB]:
                j = idx - 1
                while amounts[0, j] == 0:
                    j -= 1
                ist[S_BB] = j
            if idx == ist[S_FB]:
                j = idx + 1
                while amounts[0, j] == 0:
                    j += 1
                ist[S_FB] = j
    else:
        if new == 0 and old > 0 and ist[S_NA] <= 1:
            new = np.int64(1)
        amounts[1, idx] = new
        if old == 0 and new > 0:
            ist[S_NA] += 1
            if idx < ist[S_BA]:
                ist[S_BA] = idx
            if idx > ist[S_FA]:
                ist[S_FA] = idx
        elif old > 0 and new == 0:
            ist[S_NA] -= 1
            if idx == ist[S_BA]:
                j = idx + 1
                while amounts[1, j] == 0:
                    j += 1
                ist[S_BA] = j
            if idx == ist[S_FA]:
                j = idx - 1
                while amounts[1, j] == 0:
                    j -= 1
                ist[S_FA] = j


@nb.njit(cache=True, nogil=True)
def touch(touched: np.ndarray, nt: int, side: int, idx: int, locked: bool) -> int:
    key = side * BOOK_WIDTH + idx
    for k in range(nt):
        if touched[k] % LOCKED == key:
            return nt
    touched[nt] = key + (LOCKED if locked else 0)
    return nt + 1


@nb.njit(cache=True, nogil=True)
def is_locked(touched: np.ndarray, nt: int, side: int, idx: int) -> bool:
    key = side * BOOK_WIDTH + idx + LOCKED
    for k in range(nt):  # noqa: SIM110 - a plain loop compiles to tight code in numba
        if touched[k] == key:
            return True
    return False


@nb.njit(cache=True, nogil=True)
def recentre(amounts: np.ndarray, ist: np.ndarray) -> None:
    if ist[S_FB] >= MARGIN and ist[S_FA] < BOOK_WIDTH - MARGIN:
        return
    shift = (ist[S_BB] + ist[S_BA]) // 2 - BOOK_WIDTH // 2
    lo, hi = ist[S_FB], ist[S_FA] + 1
    moved = amounts[:, lo:hi].copy()
    amounts[:, lo:hi] = 0
    amounts[:, lo - shift : hi - shift] = moved
    for k in (S_BB, S_BA, S_FB, S_FA):
        ist[k] -= shift
    ist[S_BASE] += shift
