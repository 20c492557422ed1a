"""The read-only face of an order book that strategies, the simulated exchange and views use."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class BookView(Protocol):
    """Read access to one symbol's current L2 book. Sides: +1 bid, -1 ask."""

    def best_bid(self) -> tuple[float, float] | None:
        """(price, amount) of the best bid, or None when the bid side is empty."""
        ...

    def best_ask(self) -> tuple[float, float] | None:
        """(price, amount) of the best ask, or None when the ask side is empty."""
        ...

    def levels(self, side: int, n: int) -> np.ndarray:
        """Up to ``n`` levels of ``side`` best first, as a float64 array of shape (k, 2): price, amount."""
        ...

    def size_at(self, side: int, price: float) -> float:
        """Resting amount at exactly ``price`` on ``side`` (0.0 when there is no such level)."""
        ...
