"""``Frame``: what the replay worker publishes to the GUI after each batch.

A frame carries the latest state (book top N, clock, counters) plus the streams appended since
the previous frame (trades, top-of-book series, liquidations, ticker rows; see ``streams``).
``reset=True`` means the streams are a fresh backfill (after open or seek): views replace what
they hold instead of appending. Plain numpy and dataclasses only: the core never imports Qt.
See docs/architecture.md, "Threading" and "Frames".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from replayterm.core.frames.batches import TickerSeries, TopSeries, TradeBatch

if TYPE_CHECKING:
    from replayterm.core.frames.strategies import StrategyFrame


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
class OrderLevels:
    """Market-by-order detail of the frame's ``bids``/``asks`` rows (same order): how many orders
    rest at each level and the sizes of the first ``sizes.shape[1]`` of them, front first."""

    bid_counts: np.ndarray
    bid_sizes: np.ndarray
    ask_counts: np.ndarray
    ask_sizes: np.ndarray


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
    # Appended streams (``streams.STREAMS``): rows since the previous frame.
    trades: TradeBatch = field(default_factory=TradeBatch)
    series: TopSeries = field(default_factory=TopSeries)
    playing: bool = False
    speed: float = 1.0
    events_per_s: float = 0.0
    lag_us: int = 0
    events_applied: int = 0
    at_end: bool = False
    # One ``StrategyFrame`` per loaded strategy.
    strategies: list[StrategyFrame] = field(default_factory=list)
    # The other Tardis types of the shown instrument (appended like ``trades``).
    liquidations: TradeBatch = field(default_factory=TradeBatch)
    ticker: TickerSeries = field(default_factory=TickerSeries)
    # Which instrument this frame shows, out of all open ones (for the selector).
    instrument: int = 0
    instruments: list[str] = field(default_factory=list)
    top_of_book_only: bool = False  # the book is a quotes/book_ticker stream (one level a side)
    # BBO check of the shown instrument (``BboCheck.to_json()``; the same object every frame).
    bbo_check: dict[str, Any] | None = None
    size_decimals: int = -1  # the decimals the instrument's sizes are given in; -1 unknown
    second: SideBook | None = None  # the second ladder's instrument, when one is open
    # Why the shown book is not trustworthy now (a sequence gap of a raw recording not re-synced
    # yet), "" when it is: the ladder greys it out.
    unreliable: str = ""
    orders: OrderLevels | None = None  # market-by-order data: orders per level (the ladder's MBO view)
