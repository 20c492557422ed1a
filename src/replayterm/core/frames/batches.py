"""Appended batches: the rows a frame carries since the previous one (trades, top-of-book samples,
ticker rows). Each batch type is a columnar dataclass that knows how to concatenate itself, which
is all the coalescer needs (``Batch``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Protocol, Self

import numpy as np


class Batch(Protocol):
    """Rows appended in replay order; ``concat`` of consecutive batches is their union."""

    def __len__(self) -> int: ...

    @classmethod
    def concat(cls, parts: Sequence[Self]) -> Self: ...


def _empty_f8() -> np.ndarray:
    return np.empty(0, dtype=np.float64)


def _empty_i8() -> np.ndarray:
    return np.empty(0, dtype=np.int64)


def _concat(cls: Any, parts: Sequence[Any]) -> Any:
    """Columns of consecutive batches end to end (every field of a batch is one column)."""
    kept = [p for p in parts if len(p)]
    if not kept:
        return cls()
    if len(kept) == 1:
        return kept[0]
    return cls(*(np.concatenate([getattr(p, f.name) for p in kept]) for f in fields(cls)))


@dataclass(slots=True)
class TradeBatch:
    """Trades in replay order. ``side`` is the taker side: +1 buy, -1 sell, 0 unknown."""

    local_ts: np.ndarray = field(default_factory=_empty_i8)
    exch_ts: np.ndarray = field(default_factory=_empty_i8)
    price: np.ndarray = field(default_factory=_empty_f8)
    amount: np.ndarray = field(default_factory=_empty_f8)
    side: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int8))

    def __len__(self) -> int:
        return int(self.local_ts.shape[0])

    @classmethod
    def concat(cls, parts: Sequence[Self]) -> Self:
        return _concat(cls, parts)


@dataclass(slots=True)
class TopSeries:
    """Top-of-book samples taken after complete book messages (decimated by the worker).

    NaN where a side was empty. ``imbalance`` is over the top levels, in [-1, 1].
    """

    local_ts: np.ndarray = field(default_factory=_empty_i8)
    best_bid: np.ndarray = field(default_factory=_empty_f8)
    best_ask: np.ndarray = field(default_factory=_empty_f8)
    imbalance: np.ndarray = field(default_factory=_empty_f8)

    def __len__(self) -> int:
        return int(self.local_ts.shape[0])

    @classmethod
    def concat(cls, parts: Sequence[Self]) -> Self:
        return _concat(cls, parts)


@dataclass(slots=True)
class TickerSeries:
    """derivative_ticker rows (NaN where the exchange sent no value)."""

    local_ts: np.ndarray = field(default_factory=_empty_i8)
    funding_rate: np.ndarray = field(default_factory=_empty_f8)
    predicted_funding_rate: np.ndarray = field(default_factory=_empty_f8)
    open_interest: np.ndarray = field(default_factory=_empty_f8)
    mark_price: np.ndarray = field(default_factory=_empty_f8)
    index_price: np.ndarray = field(default_factory=_empty_f8)
    last_price: np.ndarray = field(default_factory=_empty_f8)
    funding_timestamp: np.ndarray = field(default_factory=_empty_i8)

    def __len__(self) -> int:
        return int(self.local_ts.shape[0])

    @classmethod
    def concat(cls, parts: Sequence[Self]) -> Self:
        return _concat(cls, parts)
