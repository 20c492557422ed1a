"""Market-by-order (L3) book: every order in FIFO order per price; the L2 view is derived."""

from replayterm.core.book.l3.book import L3Book
from replayterm.core.book.l3.events import L3Events, derive_l2

__all__ = ["L3Book", "L3Events", "derive_l2"]
