"""What the server can replay: one ``Market`` per (exchange, symbol), immutable and shared.

A market holds the book's prepared events and checkpoints (each client replays them with its
own ``BookReplayer``, so clients never share mutable state) and the trade, liquidation and
derivative-ticker columns in receive-time order. Everything is read-only after ``build``, so
any number of client streams, on any thread, can read it at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from replayterm.core.book import BookEvents, BookReplayer
from replayterm.core.book.checkpoints import Checkpoints
from replayterm.core.data import open_sources
from replayterm.core.data.model import Kind, Source
from replayterm.core.replay.instruments import build_instruments
from replayterm.serve import encode as enc

_COLUMN_KINDS = (Kind.TRADES, Kind.LIQUIDATIONS, Kind.DERIVATIVE_TICKER, Kind.BOOK_TICKER)


@dataclass(frozen=True, eq=False)
class Prints:
    """Trades or liquidations: one row per print, in receive-time order."""

    local_ts: np.ndarray
    exch_ts: np.ndarray
    price: np.ndarray
    amount: np.ndarray
    side: np.ndarray
    id: pa.Array
    exch_ms: bool = False  # the exchange's clock is in whole milliseconds (printed as such)

    def __len__(self) -> int:
        return int(self.local_ts.shape[0])

    def count_before(self, ts: int) -> int:
        return int(np.searchsorted(self.local_ts, ts, side="left"))


@dataclass(frozen=True, eq=False)
class BookData:
    events: BookEvents
    checkpoints: Checkpoints | None
    group_exch_ts: np.ndarray  # exchange time of each message (its last row)
    group_local_ts: np.ndarray  # receive time of each message as recorded (its first row)
    exch_ms: bool = False  # the exchange's clock is in whole milliseconds
    # Re-snapshots that only start the next file (a daily file opens with the book): the feed
    # was not interrupted there, so they are not disconnects.
    file_starts: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    # Raw recordings: sequence gaps (``SequenceGap``); the re-sync snapshot that closes one is a
    # disconnect whose time is the last message in sequence before the gap, and it says why.
    sequence_gaps: tuple[Any, ...] = ()

    def gap_resynced_at(self, ts: int) -> Any:
        """The sequence gap that the re-snapshot at ``ts`` closed, or None."""
        for gap in self.sequence_gaps:
            if gap.end_ts == ts:
                return gap
        return None

    def replayer(self) -> BookReplayer:
        return BookReplayer(self.events, self.checkpoints)

    def groups_before(self, ts: int) -> int:
        return int(np.searchsorted(self.events.group_ts, ts, side="left"))

    @property
    def disconnect_groups(self) -> np.ndarray:
        """Groups that re-snapshot the book after a gap in the feed (not at a file's start)."""
        groups = self.events.resnapshot_groups
        if not self.file_starts.shape[0]:
            return groups
        return groups[~np.isin(self.events.group_ts[groups], self.file_starts)]

    @property
    def file_start_groups(self) -> np.ndarray:
        """Re-snapshots at the start of a file (not disconnects)."""
        groups = self.events.resnapshot_groups
        if not self.file_starts.shape[0]:
            return groups[:0]
        return groups[np.isin(self.events.group_ts[groups], self.file_starts)]


@dataclass(frozen=True, eq=False)
class Tickers:
    """The exchange's own best bid/offer stream (Tardis ``book_ticker``), receive-time order."""

    local_ts: np.ndarray
    exch_ts: np.ndarray
    bid_price: np.ndarray
    bid_amount: np.ndarray
    ask_price: np.ndarray
    ask_amount: np.ndarray
    exch_ms: bool = False

    def __len__(self) -> int:
        return int(self.local_ts.shape[0])

    def count_before(self, ts: int) -> int:
        return int(np.searchsorted(self.local_ts, ts, side="left"))


@dataclass(eq=False)
class Market:
    exchange: str
    symbol: str
    book: BookData | None = None
    trades: Prints | None = None
    liquidations: Prints | None = None
    derivative: pa.Table | None = None  # DERIVATIVE_TICKER_SCHEMA columns, receive-time order
    derivative_exch_ms: bool = False
    tickers: Tickers | None = None

    @property
    def span(self) -> tuple[int, int] | None:
        starts, ends = [], []
        if self.book is not None and self.book.events.n_groups:
            starts.append(int(self.book.events.group_ts[0]))
            ends.append(int(self.book.events.group_ts[-1]))
        for prints in (self.trades, self.liquidations, self.tickers):
            if prints is not None and len(prints):
                starts.append(int(prints.local_ts[0]))
                ends.append(int(prints.local_ts[-1]))
        if self.derivative is not None and self.derivative.num_rows:
            ts = self.derivative.column("local_ts").to_numpy()
            starts.append(int(ts[0]))
            ends.append(int(ts[-1]))
        return (min(starts), max(ends)) if starts else None


@dataclass(eq=False)
class Catalog:
    markets: dict[tuple[str, str], Market] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def exchanges(self) -> list[str]:
        return sorted({e for e, _ in self.markets})

    def symbols(self, exchange: str) -> list[str]:
        return sorted(s for e, s in self.markets if e == exchange)

    def find(self, exchange: str, symbol: str) -> Market | None:
        market = self.markets.get((exchange, symbol))
        if market is None:  # Tardis symbols are case-insensitive in requests
            for (e, s), m in self.markets.items():
                if e == exchange and s.lower() == symbol.lower():
                    return m
        return market

    @property
    def span(self) -> tuple[int, int] | None:
        spans = [m.span for m in self.markets.values() if m.span is not None]
        return (min(s[0] for s in spans), max(s[1] for s in spans)) if spans else None

    @classmethod
    def from_sources(
        cls, sources: Sequence[Source], progress: Callable[[float, str], object] | None = None
    ) -> Catalog:
        catalog = cls()
        for inst in build_instruments(sources, progress=progress):
            market = catalog.markets.setdefault(
                (inst.exchange, inst.symbol), Market(inst.exchange, inst.symbol)
            )
            catalog.notes.extend(inst.notes)
            if inst.book is not None:
                ev = inst.book.events
                group_exch = ev.exch_ts[ev.group_start[1:] - 1]
                market.book = BookData(
                    ev,
                    inst.book.checkpoints,
                    group_exch,
                    ev.local_ts[ev.group_start[:-1]],
                    exch_ms=enc.whole_ms(group_exch),
                    file_starts=_file_starts(sources, inst.exchange, inst.symbol),
                    sequence_gaps=tuple(inst.sequence_gaps),
                )
        by_kind: dict[tuple[str, str, Kind], list[Source]] = {}
        for s in sources:
            if s.rows and s.kind in (
                Kind.TRADES,
                Kind.LIQUIDATIONS,
                Kind.DERIVATIVE_TICKER,
                Kind.BOOK_TICKER,
            ):
                by_kind.setdefault((s.exchange, s.symbol, s.kind), []).append(s)
        for (exchange, symbol, kind), group in by_kind.items():
            market = catalog.markets.setdefault((exchange, symbol), Market(exchange, symbol))
            table = _concat_in_time_order(group)
            if kind is Kind.DERIVATIVE_TICKER:
                market.derivative = table
                market.derivative_exch_ms = enc.whole_ms(table.column("exch_ts").to_numpy())
            elif kind is Kind.BOOK_TICKER:
                cols = {
                    c: table.column(c).to_numpy()
                    for c in ("local_ts", "exch_ts", "bid_price", "bid_amount", "ask_price", "ask_amount")
                }
                market.tickers = Tickers(**cols, exch_ms=enc.whole_ms(cols["exch_ts"]))
            else:
                col = {
                    c: table.column(c).to_numpy() for c in ("local_ts", "exch_ts", "price", "amount", "side")
                }
                prints = Prints(
                    **col, id=table.column("id").combine_chunks(), exch_ms=enc.whole_ms(col["exch_ts"])
                )
                if kind is Kind.TRADES:
                    market.trades = prints
                else:
                    market.liquidations = prints
        return catalog

    @classmethod
    def open(cls, files: Sequence[str], progress: Callable[[float, str], object] | None = None) -> Catalog:
        def part(lo: float, hi: float) -> Callable[[float, str], None] | None:
            if progress is None:
                return None
            report = progress

            def scaled(f: float, m: str) -> None:
                report(lo + (hi - lo) * f, m)

            return scaled

        sources = open_sources(list(files), progress=part(0.0, 0.5))
        return cls.from_sources(sources, progress=part(0.5, 1.0))


def _file_starts(sources: Sequence[Source], exchange: str, symbol: str) -> np.ndarray:
    """First receive time of every book file of a market after its first one."""
    starts = sorted(
        span[0]
        for s in sources
        if s.kind is Kind.BOOK and s.exchange == exchange and s.symbol == symbol and (span := s.time_span())
    )
    return np.array(starts[1:], dtype=np.int64)


def _concat_in_time_order(sources: Sequence[Source]) -> pa.Table:
    ordered = sorted(sources, key=lambda s: s.time_span() or (0, 0))
    table = pa.concat_tables([s.table for s in ordered]).combine_chunks()
    ts = table.column("local_ts").to_numpy()
    if ts.shape[0] > 1 and np.any(ts[1:] < ts[:-1]):
        table = table.take(pa.array(np.argsort(ts, kind="stable")))
    return table
