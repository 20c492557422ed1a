"""Compiled read-only queries over a dense book state (see ``kernel`` for the layout).

Every walk starts at the best index and moves away from the spread, skipping empty grid slots,
and stops at the side's dirty bound, so a query costs O(levels visited + gaps between them).
Side arguments: +1 bid, -1 ask. Prices are returned from the grid, never recomputed.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from replayterm.core.book.kernel import ASK_HI, BEST_ASK, BEST_BID, BID_LO


@nb.njit(cache=True)
def top_levels(prices: np.ndarray, book: np.ndarray, st: np.ndarray, side: int, n: int) -> np.ndarray:
    """Up to ``n`` levels of ``side`` best first, float64 (k, 2): price, amount."""
    bid = book[0]
    ask = book[1]
    out = np.empty((max(n, 0), 2), dtype=np.float64)
    k = 0
    if side > 0:
        i = st[BEST_BID]
        lo = st[BID_LO]
        if i >= 0:
            while k < n and i >= lo:
                a = bid[i]
                if a != 0.0:
                    out[k, 0] = prices[i]
                    out[k, 1] = a
                    k += 1
                i -= 1
    else:
        i = st[BEST_ASK]
        hi = st[ASK_HI]
        if i >= 0:
            while k < n and i <= hi:
                a = ask[i]
                if a != 0.0:
                    out[k, 0] = prices[i]
                    out[k, 1] = a
                    k += 1
                i += 1
    return out[:k]


@nb.njit(cache=True)
def side_sum(book: np.ndarray, st: np.ndarray, side: int, n: int) -> float:
    """Sum of the amounts of the best ``n`` levels of ``side``."""
    bid = book[0]
    ask = book[1]
    total = 0.0
    k = 0
    if side > 0:
        i = st[BEST_BID]
        lo = st[BID_LO]
        if i >= 0:
            while k < n and i >= lo:
                a = bid[i]
                if a != 0.0:
                    total += a
                    k += 1
                i -= 1
    else:
        i = st[BEST_ASK]
        hi = st[ASK_HI]
        if i >= 0:
            while k < n and i <= hi:
                a = ask[i]
                if a != 0.0:
                    total += a
                    k += 1
                i += 1
    return total


@nb.njit(cache=True)
def depth_to_price(prices: np.ndarray, book: np.ndarray, st: np.ndarray, side: int, limit: float) -> float:
    """Sum of amounts on ``side`` at prices within ``limit`` (bids >= limit, asks <= limit)."""
    bid = book[0]
    ask = book[1]
    total = 0.0
    if side > 0:
        i = st[BEST_BID]
        lo = st[BID_LO]
        if i >= 0:
            while i >= lo and prices[i] >= limit:
                total += bid[i]
                i -= 1
    else:
        i = st[BEST_ASK]
        hi = st[ASK_HI]
        if i >= 0:
            while i <= hi and prices[i] <= limit:
                total += ask[i]
                i += 1
    return total


@nb.njit(cache=True)
def take_quantity(
    prices: np.ndarray, book: np.ndarray, st: np.ndarray, side: int, quantity: float
) -> tuple[float, float]:
    """Walk ``side`` best first taking up to ``quantity``: (average fill price, amount filled).

    The average is NaN when nothing could be filled.
    """
    bid = book[0]
    ask = book[1]
    filled = 0.0
    notional = 0.0
    if quantity > 0.0:
        if side > 0:
            i = st[BEST_BID]
            lo = st[BID_LO]
            if i >= 0:
                while i >= lo and filled < quantity:
                    a = bid[i]
                    if a != 0.0:
                        q = min(a, quantity - filled)
                        filled += q
                        notional += q * prices[i]
                    i -= 1
        else:
            i = st[BEST_ASK]
            hi = st[ASK_HI]
            if i >= 0:
                while i <= hi and filled < quantity:
                    a = ask[i]
                    if a != 0.0:
                        q = min(a, quantity - filled)
                        filled += q
                        notional += q * prices[i]
                    i += 1
    if filled == 0.0:
        return np.nan, 0.0
    return notional / filled, filled


@nb.njit(cache=True)
def top_stats(prices: np.ndarray, book: np.ndarray, st: np.ndarray, n: int) -> np.ndarray:
    """One call for a frame: [best bid, bid size, best ask, ask size, mid, spread, spread bps,
    microprice, imbalance over the top ``n`` levels]; NaN where undefined."""
    out = np.full(9, np.nan)
    b = st[BEST_BID]
    a = st[BEST_ASK]
    if b >= 0:
        out[0] = prices[b]
        out[1] = book[0, b]
    if a >= 0:
        out[2] = prices[a]
        out[3] = book[1, a]
    if b >= 0 and a >= 0:
        mid = 0.5 * (out[0] + out[2])
        out[4] = mid
        out[5] = out[2] - out[0]
        out[6] = out[5] / mid * 1e4
        out[7] = (out[0] * out[3] + out[2] * out[1]) / (out[1] + out[3])
    vb = side_sum(book, st, 1, n)
    va = side_sum(book, st, -1, n)
    if vb + va > 0.0:
        out[8] = (vb - va) / (vb + va)
    return out
