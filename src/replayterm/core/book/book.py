"""``Book``: the live L2 state of one symbol plus the queries strategies, views and execution use."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from replayterm.core.book import kernel as k
from replayterm.core.book import queries as q

STATS_DEPTH = 5  # levels a side the imbalance of the frames, the panel and the chart is over


class TopStats(NamedTuple):
    """Top-of-book figures after a complete message; NaN where a side is empty."""

    best_bid: float
    bid_amount: float
    best_ask: float
    ask_amount: float
    mid: float
    spread: float
    spread_bps: float
    microprice: float
    imbalance: float


class Book:
    """Dense L2 book: amounts per price rank for each side plus the kernel's scalar state.

    A ``Book`` owned by a ``BookReplayer`` is a live view: its queries always show the state
    after the last complete message applied. Implements ``BookView``. Sides: +1 bid, -1 ask.
    """

    __slots__ = ("amounts", "ask", "bid", "prices", "st")

    def __init__(
        self, prices: np.ndarray, amounts: np.ndarray | None = None, st: np.ndarray | None = None
    ) -> None:
        self.prices = prices
        # Row 0 bids, row 1 asks: one array argument for the kernel, two views for readers.
        self.amounts = np.zeros((2, prices.shape[0]), dtype=np.float64) if amounts is None else amounts
        self.bid = self.amounts[0]
        self.ask = self.amounts[1]
        self.st = k.new_scalar_state() if st is None else st

    def copy(self) -> Book:
        """A detached copy of the current state (the grid is shared, it never changes)."""
        return Book(self.prices, self.amounts.copy(), self.st.copy())

    def same_state(self, other: Book) -> bool:
        """True when amounts, scalar state and counters are identical."""
        return np.array_equal(self.amounts, other.amounts) and np.array_equal(self.st, other.st)

    # -- counters --------------------------------------------------------------------------

    @property
    def position(self) -> int:
        """Number of message groups applied so far (index of the next one)."""
        return int(self.st[k.POS])

    @property
    def crossed_removals(self) -> int:
        """Levels removed so far to resolve crossed books."""
        return int(self.st[k.CROSSED_REMOVALS])

    @property
    def crossed_messages(self) -> int:
        """Messages so far that left the book crossed and needed removals."""
        return int(self.st[k.CROSSED_GROUPS])

    def level_count(self, side: int) -> int:
        return int(self.st[k.N_BID] if side > 0 else self.st[k.N_ASK])

    # -- BookView --------------------------------------------------------------------------

    def best_bid(self) -> tuple[float, float] | None:
        i = int(self.st[k.BEST_BID])
        return None if i < 0 else (float(self.prices[i]), float(self.bid[i]))

    def best_ask(self) -> tuple[float, float] | None:
        i = int(self.st[k.BEST_ASK])
        return None if i < 0 else (float(self.prices[i]), float(self.ask[i]))

    def levels(self, side: int, n: int) -> np.ndarray:
        return q.top_levels(self.prices, self.amounts, self.st, side, n)

    def size_at(self, side: int, price: float) -> float:
        i = int(self.prices.searchsorted(price))  # the method skips numpy's Python-level wrapper
        if i >= self.prices.shape[0] or self.prices[i] != price:
            return 0.0
        return float(self.bid[i] if side > 0 else self.ask[i])

    # -- metrics ---------------------------------------------------------------------------

    def mid(self) -> float:
        b, a = int(self.st[k.BEST_BID]), int(self.st[k.BEST_ASK])
        return float("nan") if b < 0 or a < 0 else 0.5 * float(self.prices[b] + self.prices[a])

    def spread(self) -> float:
        b, a = int(self.st[k.BEST_BID]), int(self.st[k.BEST_ASK])
        return float("nan") if b < 0 or a < 0 else float(self.prices[a] - self.prices[b])

    def spread_bps(self) -> float:
        return self.spread() / self.mid() * 1e4

    def microprice(self) -> float:
        """Size-weighted mid: bid * ask_size + ask * bid_size over the summed top sizes."""
        return self.top_stats(1).microprice

    def imbalance(self, n: int = 1) -> float:
        """(bid volume - ask volume) / (sum) over the top ``n`` levels of each side, in [-1, 1]."""
        vb = self.depth(1, n)
        va = self.depth(-1, n)
        return float("nan") if vb + va <= 0.0 else (vb - va) / (vb + va)

    def depth(self, side: int, n: int) -> float:
        """Total amount in the best ``n`` levels of ``side``."""
        return float(q.side_sum(self.amounts, self.st, side, n))

    def depth_bps(self, side: int, bps: float) -> float:
        """Total amount on ``side`` at prices within ``bps`` basis points of the mid (inclusive)."""
        mid = self.mid()
        if mid != mid:
            return 0.0
        limit = mid * (1.0 - bps * 1e-4) if side > 0 else mid * (1.0 + bps * 1e-4)
        return float(q.depth_to_price(self.prices, self.amounts, self.st, side, limit))

    def fill_price(self, side: int, quantity: float) -> tuple[float, float]:
        """Take ``quantity`` from book ``side`` (-1 asks = a buy, +1 bids = a sell), best first.

        Returns (average fill price, amount available up to ``quantity``); the price is NaN when
        the side is empty.
        """
        avg, filled = q.take_quantity(self.prices, self.amounts, self.st, side, quantity)
        return float(avg), float(filled)

    def top_stats(self, n: int = STATS_DEPTH) -> TopStats:
        """Best prices and sizes, mid, spread (abs, bps), microprice and imbalance over ``n`` levels."""
        return TopStats(*(float(x) for x in q.top_stats(self.prices, self.amounts, self.st, n)))
