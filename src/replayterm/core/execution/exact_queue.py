"""Exact queue position on market-by-order data: our order joins the real FIFO queue.

A simulated order arriving at a level stands behind every order resting there at that moment;
orders that join later stand behind it. The size ahead of it at any later moment is the size of
the orders that joined before it and are still there, read from the L3 book (``book.l3``): it
shrinks exactly as those orders are cancelled, reduced or filled, and an order that loses its
priority (a modify to a larger size) leaves the part ahead of us. The L3 book follows the L2 book
the exchange sees: it is synchronised to the L2 rows applied, at message boundaries.
"""

from __future__ import annotations

from typing import Any

from replayterm.core.book.l3.book import L3Book


class ExactQueue:
    """The queue ahead of our orders from the L3 book, in step with one L2 ``Book``."""

    def __init__(self, l3: L3Book, group_rows: Any) -> None:
        self.l3 = l3
        self._group_rows = group_rows  # row offset of each L2 message group (BookEvents.groups[0])
        self._synced: int | None = None
        self._levels: dict[tuple[int, float], int] = {}

    def _sync(self, book: Any) -> None:
        position = int(book.position)
        if position != self._synced:
            rows = int(self._group_rows[position]) if position < self._group_rows.shape[0] else 0
            self.l3.at_l2_rows(rows)
            self._synced = position

    def _level(self, side: int, price: float) -> int:
        key = (side, price)
        level = self._levels.get(key)
        if level is None:
            level = self._levels[key] = self.l3.level_of(side, price)
        return level

    def join(self, book: Any, side: int, price: float) -> tuple[int, float]:
        """An order joining (side, price) now: (its place in time, the size ahead of it)."""
        self._sync(book)
        mark = self.l3.position
        return mark, float(self.l3.size_ahead_at(self._level(side, price), mark))

    def ahead(self, book: Any, side: int, price: float, mark: int) -> float:
        """Size still ahead of an order that joined at ``mark``."""
        self._sync(book)
        return float(self.l3.size_ahead_at(self._level(side, price), mark))

    def invalidate(self) -> None:
        """The L2 book moved by a seek: resynchronise on the next question."""
        self._synced = None
