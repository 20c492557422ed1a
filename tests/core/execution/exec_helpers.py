"""Test helpers: a dict-based BookView and a driver that follows the exchange's replay protocol."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from replayterm.core.execution import Event, SimExchange

BID, ASK = 1, -1


class DictBook:
    """Minimal BookView: one dict price -> amount per side."""

    def __init__(
        self, bids: dict[float, float] | None = None, asks: dict[float, float] | None = None
    ) -> None:
        self.sides: dict[int, dict[float, float]] = {BID: dict(bids or {}), ASK: dict(asks or {})}

    def set(self, side: int, price: float, amount: float) -> None:
        if amount == 0:
            self.sides[side].pop(price, None)
        else:
            self.sides[side][price] = amount

    def _sorted(self, side: int) -> list[tuple[float, float]]:
        return sorted(self.sides[side].items(), key=lambda kv: -kv[0] if side == BID else kv[0])

    def best_bid(self) -> tuple[float, float] | None:
        levels = self._sorted(BID)
        return levels[0] if levels else None

    def best_ask(self) -> tuple[float, float] | None:
        levels = self._sorted(ASK)
        return levels[0] if levels else None

    def levels(self, side: int, n: int) -> np.ndarray:
        return np.array(self._sorted(side)[:n], dtype=np.float64).reshape(-1, 2)

    def size_at(self, side: int, price: float) -> float:
        return self.sides[side].get(price, 0.0)


class Driver:
    """Feeds hand-written market events to an exchange in the documented order and collects
    every response delivered to the strategy."""

    def __init__(self, exchange: SimExchange, book: DictBook) -> None:
        self.ex = exchange
        self.book = book
        self.delivered: list[Event] = []

    def _deliver(self, ts: int) -> list[Event]:
        events = self.ex.poll(ts)
        self.delivered.extend(events)
        return events

    def start(self, ts: int) -> list[Event]:
        """The first book message: the book as built by the test so far."""
        self.ex.advance(ts - 1)
        self.ex.on_book(ts, self.book)
        return self._deliver(ts)

    def book_msg(self, ts: int, updates: Iterable[tuple[int, float, float]]) -> list[Event]:
        self.ex.advance(ts - 1)
        for side, price, amount in updates:
            self.book.set(side, price, amount)
        self.ex.on_book(ts, self.book)
        return self._deliver(ts)

    def trade(self, ts: int, side: int, price: float, amount: float) -> list[Event]:
        self.ex.advance(ts - 1)
        self.ex.on_trade(ts, side, price, amount)
        return self._deliver(ts)

    def at(self, ts: int) -> list[Event]:
        """A timer or the end of a batch at ``ts``."""
        self.ex.advance(ts)
        return self._deliver(ts)
