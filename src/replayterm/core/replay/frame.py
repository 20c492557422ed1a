"""Frames: what the replay worker publishes to the GUI after each batch (docs/architecture.md, "Threading").

A frame carries the latest state (book top N, clock, counters) plus the streams appended since
the previous frame (trades, top-of-book series). ``reset=True`` means the streams are a fresh
backfill (after open or seek): views replace what they hold instead of appending.
Plain numpy and dataclasses only: the core never imports Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def _empty_f8() -> np.ndarray:
    return np.empty(0, dtype=np.float64)


def _empty_i8() -> np.ndarray:
    return np.empty(0, dtype=np.int64)


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


@dataclass(slots=True)
class SideBook:
    """A second instrument's ladder state (the second ladder)."""

    name: str
    tick_size: float
    bids: np.ndarray
    asks: np.ndarray


@dataclass(slots=True)
class BookStats:
    best_bid: float = float("nan")
    best_ask: float = float("nan")
    mid: float = float("nan")
    spread: float = float("nan")
    spread_bps: float = float("nan")
    microprice: float = float("nan")
    imbalance: float = float("nan")
    bid_levels: int = 0
    ask_levels: int = 0
    crossed_removals: int = 0
    skipped_rows: int = 0  # rows before the first snapshot, never applied (so far)
    resnapshots: int = 0  # snapshots after the first one applied so far (book cleared and rebuilt)


@dataclass(slots=True)
class Frame:
    generation: int
    reset: bool
    symbol: str
    tick_size: float
    local_ts: int  # replay clock (receive time)
    exch_ts: int  # exchange time of the last applied event
    start_ts: int
    end_ts: int
    # Levels best first, float64 arrays of shape (k, 2): price, amount.
    bids: np.ndarray
    asks: np.ndarray
    stats: BookStats
    trades: TradeBatch
    series: TopSeries
    playing: bool = False
    speed: float = 1.0
    events_per_s: float = 0.0
    lag_us: int = 0
    events_applied: int = 0
    at_end: bool = False
    # One ``replayterm.core.session.streams.StrategyFrame`` per loaded strategy.
    strategies: list[Any] = field(default_factory=list)
    # The other Tardis types of the shown instrument (appended like ``trades``).
    liquidations: TradeBatch = field(default_factory=TradeBatch)
    ticker: TickerSeries = field(default_factory=TickerSeries)
    # Which instrument this frame shows, out of all open ones (for the selector).
    instrument: int = 0
    instruments: list[str] = field(default_factory=list)
    top_of_book_only: bool = False  # the book is a quotes/book_ticker stream (one level a side)
    # BBO check of the shown instrument (``BboCheck.to_json()``; the same object every frame).
    bbo_check: dict[str, Any] | None = None
    second: SideBook | None = None  # the second ladder's instrument, when one is open
