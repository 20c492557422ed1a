"""Per-instrument streams of the non-book Tardis types: ``derivative_ticker`` and ``liquidations``.

Both are numpy columns in receive-time order (several files joined, a receive time that steps
back clamped to the running maximum so lookups stay well defined). A row reaches strategies as a
reusable view (no object per row), the same way trades do.

Funding (``funding_events``): a derivative ticker row carries the next funding time. When the
replay passes that time, the exchange settles funding on open positions at the rate announced
for it — the last ``funding_rate`` received before the funding time — valued at the last mark
price received before it. The payment is ``-position * mark * rate``: with a positive rate longs
pay and shorts receive (Binance, BitMEX, Bybit, OKX and Deribit perpetuals all use this sign).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from replayterm.core.data.layout import SPECIFIC
from replayterm.core.data.model import Kind, Source

# The two times, then the Tardis derivative_ticker columns in the reader's order.
TICKER_COLUMNS = ("local_ts", "exch_ts", *SPECIFIC[Kind.DERIVATIVE_TICKER])


def _columns(sources: Sequence[Source], names: Sequence[str]) -> dict[str, np.ndarray]:
    ordered = sorted(sources, key=lambda s: s.time_span() or (0, 0))
    table = pa.concat_tables([s.table.select(list(names)) for s in ordered])
    cols: dict[str, np.ndarray] = {}
    for name in names:
        col = table.column(name)
        if pa.types.is_integer(col.type) and name != "local_ts" and name != "exch_ts":
            cols[name] = col.fill_null(0).to_numpy()
        elif pa.types.is_floating(col.type):
            cols[name] = col.fill_null(np.nan).to_numpy()
        else:
            cols[name] = col.to_numpy()
    ts = cols["local_ts"]
    if ts.shape[0] > 1 and np.any(ts[1:] < ts[:-1]):
        cols["local_ts"] = np.maximum.accumulate(ts)
    return cols


@dataclass(frozen=True, eq=False)
class TickerStream:
    """derivative_ticker rows: NaN where a field was empty; ``funding_timestamp`` 0 when absent."""

    local_ts: np.ndarray
    exch_ts: np.ndarray
    funding_timestamp: np.ndarray
    funding_rate: np.ndarray
    predicted_funding_rate: np.ndarray
    open_interest: np.ndarray
    last_price: np.ndarray
    index_price: np.ndarray
    mark_price: np.ndarray

    def __len__(self) -> int:
        return int(self.local_ts.shape[0])

    @classmethod
    def from_sources(cls, sources: Sequence[Source]) -> TickerStream:
        return cls(**_columns(sources, TICKER_COLUMNS))

    def count_through(self, ts: int) -> int:
        return int(np.searchsorted(self.local_ts, ts, side="right"))

    @property
    def basis(self) -> np.ndarray:
        """mark − index per row (NaN when either is missing)."""
        return self.mark_price - self.index_price


@dataclass(frozen=True, eq=False)
class LiquidationStream:
    """Liquidation prints: ``side`` is the taker side of the liquidation order (+1 buy: a short
    was liquidated; -1 sell: a long was)."""

    local_ts: np.ndarray
    exch_ts: np.ndarray
    price: np.ndarray
    amount: np.ndarray
    side: np.ndarray

    def __len__(self) -> int:
        return int(self.local_ts.shape[0])

    @classmethod
    def from_sources(cls, sources: Sequence[Source]) -> LiquidationStream:
        return cls(**_columns(sources, ("local_ts", "exch_ts", "price", "amount", "side")))

    def count_through(self, ts: int) -> int:
        return int(np.searchsorted(self.local_ts, ts, side="right"))


class FundingEvent(NamedTuple):
    ts: int  # funding time (exchange clock, µs)
    rate: float
    mark: float


def funding_events(tickers: TickerStream) -> list[FundingEvent]:
    """Each distinct funding time the ticker announced, with the rate and mark to settle at.

    Only funding times the data reaches are settled (a later row's receive time at or after the
    funding time): a replay that ends before a funding time pays nothing for it.
    """
    ft = tickers.funding_timestamp
    if ft.shape[0] == 0:
        return []
    times = np.unique(ft[ft > 0])
    events: list[FundingEvent] = []
    for t in times.tolist():
        if t > int(tickers.exch_ts[-1]):
            break  # the data stops before this funding time
        # Rows announcing this funding time, received before it passed (exchange clock).
        before = (ft == t) & (tickers.exch_ts < t) & np.isfinite(tickers.funding_rate)
        rows = np.flatnonzero(before)
        if rows.size == 0:
            continue
        rate = float(tickers.funding_rate[rows[-1]])
        k = int(np.searchsorted(tickers.exch_ts, t, side="left")) - 1
        marks = tickers.mark_price[: k + 1]
        finite = np.flatnonzero(np.isfinite(marks))
        if finite.size == 0:
            continue
        events.append(FundingEvent(int(t), rate, float(marks[finite[-1]])))
    return events


def funding_local_times(tickers: TickerStream, events: Sequence[FundingEvent]) -> np.ndarray:
    """The replay (receive) time at which each funding event is settled: the first ticker row
    whose exchange time is at or after the funding time."""
    ex = tickers.exch_ts
    out = np.empty(len(events), dtype=np.int64)
    for n, ev in enumerate(events):
        k = int(np.searchsorted(ex, ev.ts, side="left"))
        out[n] = int(tickers.local_ts[min(k, len(tickers) - 1)])
    return out


class TickerView:
    """The derivative ticker row passed to ``on_ticker``; reused for the next row (read it during
    the callback). NaN where the exchange sent no value."""

    __slots__ = (
        "exch_ts",
        "funding_rate",
        "funding_timestamp",
        "index_price",
        "instrument",
        "last_price",
        "local_ts",
        "mark_price",
        "open_interest",
        "predicted_funding_rate",
    )

    def __init__(self, instrument: object = None) -> None:
        self.instrument = instrument
        self.local_ts = 0
        self.exch_ts = 0
        self.funding_timestamp = 0
        self.funding_rate = float("nan")
        self.predicted_funding_rate = float("nan")
        self.open_interest = float("nan")
        self.last_price = float("nan")
        self.index_price = float("nan")
        self.mark_price = float("nan")

    def load(self, s: TickerStream, k: int) -> TickerView:
        self.local_ts = int(s.local_ts[k])
        self.exch_ts = int(s.exch_ts[k])
        self.funding_timestamp = int(s.funding_timestamp[k])
        self.funding_rate = float(s.funding_rate[k])
        self.predicted_funding_rate = float(s.predicted_funding_rate[k])
        self.open_interest = float(s.open_interest[k])
        self.last_price = float(s.last_price[k])
        self.index_price = float(s.index_price[k])
        self.mark_price = float(s.mark_price[k])
        return self

    @property
    def basis(self) -> float:
        return self.mark_price - self.index_price

    def __repr__(self) -> str:
        return (
            f"TickerView(local_ts={self.local_ts}, funding_rate={self.funding_rate}, "
            f"mark={self.mark_price}, index={self.index_price}, oi={self.open_interest})"
        )


class LiquidationView:
    """The liquidation passed to ``on_liquidation``; reused for the next one."""

    __slots__ = ("amount", "exch_ts", "instrument", "local_ts", "price", "side")

    def __init__(self, instrument: object = None) -> None:
        self.instrument = instrument
        self.local_ts = 0
        self.exch_ts = 0
        self.side = 0
        self.price = 0.0
        self.amount = 0.0

    def load(self, s: LiquidationStream, k: int) -> LiquidationView:
        self.local_ts = int(s.local_ts[k])
        self.exch_ts = int(s.exch_ts[k])
        self.side = int(s.side[k])
        self.price = float(s.price[k])
        self.amount = float(s.amount[k])
        return self

    def __repr__(self) -> str:
        return f"LiquidationView(side={self.side}, price={self.price}, amount={self.amount})"
