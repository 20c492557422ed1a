"""What readers produce: one ``Source`` per (file, symbol), holding a columnar Arrow table.

Time columns are int64 microseconds since the Unix epoch (UTC). The replay axis is
``local_ts`` (receive time); ``exch_ts`` (exchange time) is kept for display.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

BID: int = 1
ASK: int = -1
BUY: int = 1
SELL: int = -1
UNKNOWN_SIDE: int = 0

_SYMBOL = pa.dictionary(pa.int16(), pa.string())


class Kind(StrEnum):
    """Normalized dataset kinds. ``BOOK_SNAPSHOT`` rows are stored as book rows (see below)."""

    BOOK = "incremental_book_L2"
    BOOK_SNAPSHOT = "book_snapshot"
    TRADES = "trades"
    QUOTES = "quotes"
    BOOK_TICKER = "book_ticker"
    DERIVATIVE_TICKER = "derivative_ticker"
    LIQUIDATIONS = "liquidations"


# Book rows. book_snapshot_N files are normalized to this schema too: each CSV row becomes up to
# 2N rows with is_snapshot=True sharing one local_ts, and every such message is a full snapshot.
BOOK_SCHEMA = pa.schema(
    [
        ("exchange", _SYMBOL),
        ("symbol", _SYMBOL),
        ("local_ts", pa.int64()),
        ("exch_ts", pa.int64()),
        ("side", pa.int8()),  # +1 bid, -1 ask
        ("price", pa.float64()),
        ("amount", pa.float64()),
        ("is_snapshot", pa.bool_()),
    ]
)

# Trades and liquidations: side is the taker side (+1 buy, -1 sell, 0 unknown).
TRADES_SCHEMA = pa.schema(
    [
        ("exchange", _SYMBOL),
        ("symbol", _SYMBOL),
        ("local_ts", pa.int64()),
        ("exch_ts", pa.int64()),
        ("side", pa.int8()),
        ("price", pa.float64()),
        ("amount", pa.float64()),
        ("id", pa.string()),
    ]
)

# quotes and book_ticker: best bid/offer; a missing side is NaN.
QUOTES_SCHEMA = pa.schema(
    [
        ("exchange", _SYMBOL),
        ("symbol", _SYMBOL),
        ("local_ts", pa.int64()),
        ("exch_ts", pa.int64()),
        ("bid_price", pa.float64()),
        ("bid_amount", pa.float64()),
        ("ask_price", pa.float64()),
        ("ask_amount", pa.float64()),
    ]
)

DERIVATIVE_TICKER_SCHEMA = pa.schema(
    [
        ("exchange", _SYMBOL),
        ("symbol", _SYMBOL),
        ("local_ts", pa.int64()),
        ("exch_ts", pa.int64()),
        ("funding_timestamp", pa.int64()),  # null when absent
        ("funding_rate", pa.float64()),
        ("predicted_funding_rate", pa.float64()),
        ("open_interest", pa.float64()),
        ("last_price", pa.float64()),
        ("index_price", pa.float64()),
        ("mark_price", pa.float64()),
    ]
)

SCHEMAS: dict[Kind, pa.Schema] = {
    Kind.BOOK: BOOK_SCHEMA,
    Kind.BOOK_SNAPSHOT: BOOK_SCHEMA,
    Kind.TRADES: TRADES_SCHEMA,
    Kind.LIQUIDATIONS: TRADES_SCHEMA,
    Kind.QUOTES: QUOTES_SCHEMA,
    Kind.BOOK_TICKER: QUOTES_SCHEMA,
    Kind.DERIVATIVE_TICKER: DERIVATIVE_TICKER_SCHEMA,
}


@dataclass
class Source:
    """One symbol's rows from one file, in file order; ``local_ts`` never decreases (a receive
    time that stepped back is raised to the running maximum, see ``receive_ts``)."""

    path: Path
    kind: Kind
    exchange: str
    symbol: str
    table: pa.Table
    # book_snapshot_N: N. None for other kinds.
    snapshot_depth: int | None = None
    # Book rows before the first snapshot of the file (skipped by the book, not an error).
    rows_before_snapshot: int = 0
    # Rows whose local_ts went backwards in the file; they keep file order and were given the
    # latest receive time seen before them.
    unsorted_rows: int = 0
    # Human-readable notes for the user (e.g. where timestamps went backwards).
    warnings: list[str] = field(default_factory=list)
    # "built" (converted now), "hit" (memory-mapped from cache), "off" (no cache used).
    cache_state: str = "off"
    # The CSV parser that read the rows: "compiled" (the Tardis layouts' own), "general" (pyarrow),
    # or a mix; "" for Parquet/Arrow inputs and cache entries of older versions.
    parser: str = ""
    # (table rows, raw local_timestamp) of the rows whose local_ts was raised.
    receive_fixes: tuple[np.ndarray, np.ndarray] = field(
        default_factory=lambda: (np.zeros(0, np.int64), np.zeros(0, np.int64))
    )
    # Market-by-order data behind a book derived from an MBO file (``data.mbo.open.MboData``).
    orders: Any = None
    # Raw recordings (``sources.raw``): the sequence gaps of this book (``SequenceGap``), each
    # with where the book stopped being trustworthy and the snapshot that re-synced it.
    gaps: list[Any] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.table.num_rows

    @property
    def is_book(self) -> bool:
        return self.kind in (Kind.BOOK, Kind.BOOK_SNAPSHOT)

    @property
    def label(self) -> str:
        name = f"book_snapshot_{self.snapshot_depth}" if self.kind is Kind.BOOK_SNAPSHOT else self.kind.value
        return f"{self.exchange} {self.symbol} {name}"

    def column(self, name: str) -> np.ndarray:
        """A column as numpy; zero-copy where Arrow allows it (no nulls, fixed width, not bool)."""
        col = self.table.column(name)
        if col.num_chunks == 1:
            return col.chunk(0).to_numpy(zero_copy_only=False)
        return col.to_numpy()

    def receive_ts(self) -> np.ndarray:
        """The receive times as the file gave them (``local_ts`` with clamped rows restored)."""
        ts = self.column("local_ts")
        rows, raw = self.receive_fixes
        if rows.size == 0:
            return ts
        restored = np.array(ts, dtype=np.int64, copy=True)
        restored[rows] = raw
        return restored

    def time_span(self) -> tuple[int, int] | None:
        if self.rows == 0:
            return None
        ts = self.column("local_ts")
        return int(ts[0]), int(ts[-1])
