"""Sources grouped per instrument: one book (rebuilt by a ``BookReplayer``) and one trade stream.

Several files of one instrument (day 1 + day 2, or files given out of order) become one stream in
``local_ts`` order. Trades are kept as numpy columns; a ``TradeBatch`` is a zero-copy slice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from replayterm.core.book import BookReplayer
from replayterm.core.data.model import Kind, Source
from replayterm.core.data.progress import Cancelled
from replayterm.core.frames.batches import TradeBatch
from replayterm.core.replay.opening import OpenedData
from replayterm.core.replay.tickers import LiquidationStream, TickerStream
from replayterm.core.replay.top_of_book import TOP_OF_BOOK_KINDS, QuoteStream, quotes_as_book_source

_TRADE_KINDS = (Kind.TRADES,)


@dataclass(frozen=True, eq=False)
class TradeStream:
    """Columns are numpy arrays or ``ChunkedColumn`` views of the mapped cache."""

    local_ts: Any
    exch_ts: Any
    price: Any
    amount: Any
    side: Any

    def __len__(self) -> int:
        return int(self.local_ts.shape[0])

    def batch(self, start: int, stop: int) -> TradeBatch:
        s = slice(max(start, 0), max(stop, 0))
        return TradeBatch(self.local_ts[s], self.exch_ts[s], self.price[s], self.amount[s], self.side[s])

    def count_through(self, ts: int) -> int:
        """Trades with ``local_ts <= ts``."""
        if isinstance(self.local_ts, np.ndarray):
            return int(np.searchsorted(self.local_ts, ts, side="right"))
        return int(self.local_ts.searchsorted(ts, side="right"))


@dataclass(eq=False)
class Instrument:
    exchange: str
    symbol: str
    book: BookReplayer | None = None
    trades: TradeStream | None = None
    notes: list[str] = field(default_factory=list)
    # The exchange's own best bid/offer (quotes or book_ticker). With an L2 book it is the BBO
    # check's reference; alone it is also the book (``top_of_book_only``).
    quotes: QuoteStream | None = None
    top_of_book_only: bool = False
    tickers: TickerStream | None = None  # derivative_ticker
    liquidations: LiquidationStream | None = None
    index_folder: Path | None = None  # where the book's index is stored (None: not in the cache)
    trade_sources: list[Source] = field(default_factory=list)
    # Where each file after the first begins (several days of one symbol make one timeline).
    file_starts: list[int] = field(default_factory=list)
    # The BBO check once computed (``top_of_book.bbo_check_of``): frames, the session and the
    # timeline marks all ask for it, and it is a pass over every L2 message.
    bbo_check: Any = None
    # Market-by-order data when the book was derived from an MBO file (``data.mbo.open.MboData``):
    # every order, FIFO per price, for the ladder's order view and the exact queue position.
    orders: Any = None
    # Raw recordings: the book's sequence gaps (``sources.raw.SequenceGap``), in time order. From
    # each gap's start until the snapshot that re-synced it the book is not trustworthy.
    sequence_gaps: list[Any] = field(default_factory=list)

    @property
    def has_events(self) -> bool:
        return any(x is not None for x in (self.book, self.trades, self.tickers, self.liquidations))

    @property
    def name(self) -> str:
        return f"{self.exchange}:{self.symbol}"

    def unreliable_at(self, ts: int) -> Any:
        """The sequence gap that makes the book untrustworthy at ``ts``, or None (in sequence)."""
        for gap in self.sequence_gaps:
            if gap.start_ts > ts:
                break
            if gap.end_ts is None or ts < gap.end_ts:
                return gap
        return None

    @property
    def resnapshot_groups(self) -> np.ndarray:
        """The book's re-snapshots (see ``BookEvents.resnapshot_groups``) without the snapshot
        that opens each further file: daily files are cut that way, nothing is wrong there."""
        if self.book is None:
            return np.empty(0, np.int64)
        events = self.book.events
        groups = events.resnapshot_groups
        if groups.size == 0 or not self.file_starts:  # file_starts: the book files after the first
            return groups
        group_ts = np.asarray(events.group_ts)
        firsts = np.searchsorted(group_ts, np.asarray(self.file_starts, np.int64), side="left")
        # The snapshot a file opens with is among its first message groups (rows of the file
        # received before it may come first, and share its time).
        at = np.searchsorted(firsts, groups, side="right") - 1
        opening = (at >= 0) & (groups - firsts[np.maximum(at, 0)] < FILE_OPENING_GROUPS)
        first_of_file = opening & ~np.r_[False, (at[1:] == at[:-1]) & opening[:-1]]
        return groups[~first_of_file]

    @property
    def resnapshot_ts(self) -> np.ndarray:
        if self.book is None:
            return np.empty(0, np.int64)
        return np.asarray(self.book.events.group_ts)[self.resnapshot_groups]

    @property
    def size_decimals(self) -> int:
        """Decimals of the instrument's sizes, from the book's and the trades' amounts."""
        found = -1
        for amounts in (
            self.book.events.amount if self.book is not None else None,
            self.trades.amount if self.trades is not None else None,
        ):
            if amounts is None:
                continue
            n = len(amounts)
            if n == 0:
                continue
            step = max(1, n // SIZE_SAMPLE)
            sample = amounts[::step] if isinstance(amounts, np.ndarray) else amounts.sample(SIZE_SAMPLE)
            found = max(found, size_decimals(np.asarray(sample)))
        return found

    @property
    def tick_size(self) -> float:
        """Smallest price step seen in the book (or the trades when there is no book)."""
        prices = self.book.events.prices if self.book is not None else None
        if prices is None and self.trades is not None:
            price = self.trades.price
            # a mapped column: a spread sample shows the tick without reading every trade
            prices = np.unique(price if isinstance(price, np.ndarray) else price.sample(1_000_000))
        if prices is None or prices.shape[0] < 2:
            return 0.0
        steps = np.diff(prices)
        positive = steps[steps > 0]
        # Grid steps carry float noise (0.09999999999854481): 6 significant digits recover the tick.
        return float(f"{positive.min():.6g}") if positive.size else 0.0


def size_decimals(amounts: np.ndarray, most: int = 8) -> int:
    """The fewest decimals that write every amount exactly (their size precision: 3 for 0.001
    lots); float noise such as 0.30000000000000004 does not count. -1 for no amounts."""
    x = np.abs(np.asarray(amounts, dtype=np.float64))
    x = x[np.isfinite(x) & (x > 0)]
    if x.size == 0:
        return -1
    for d in range(most + 1):
        scaled = x * 10.0**d
        if np.all(np.abs(scaled - np.rint(scaled)) <= 1e-9 * np.maximum(1.0, scaled)):
            return d
    return most


FILE_OPENING_GROUPS = 16  # a file's own opening snapshot is among its first message groups
SIZE_SAMPLE = 200_000  # amounts looked at for the size precision (evenly spread over the data)


def _concat_sorted(sources: Sequence[Source], columns: Sequence[str]) -> dict[str, np.ndarray]:
    """The given columns of several sources, concatenated in stable ``local_ts`` order."""
    ordered = sorted(sources, key=lambda s: s.time_span() or (0, 0))
    table = pa.concat_tables([s.table.select(list(columns)) for s in ordered])
    arrays = {name: table.column(name).to_numpy() for name in columns}
    ts = arrays["local_ts"]
    if ts.shape[0] > 1 and np.any(ts[1:] < ts[:-1]):
        order = np.argsort(ts, kind="stable")
        arrays = {name: a[order] for name, a in arrays.items()}
    return arrays


def _trade_stream(sources: Sequence[Source]) -> TradeStream:
    """Trades of several files as zero-copy chunked columns (sorted copies if files overlap)."""
    from replayterm.core.replay.indexing import _in_order, _ordered, trade_column

    ordered = _ordered(sources)
    if not _in_order(ordered):
        cols = _concat_sorted(sources, ("local_ts", "exch_ts", "price", "amount", "side"))
        return TradeStream(cols["local_ts"], cols["exch_ts"], cols["price"], cols["amount"], cols["side"])
    return TradeStream(
        trade_column(ordered, "local_ts", np.int64),
        trade_column(ordered, "exch_ts", np.int64),
        trade_column(ordered, "price", np.float64),
        trade_column(ordered, "amount", np.float64),
        trade_column(ordered, "side", np.int8),
    )


def _prepare(inst: Instrument, group: list[Source]) -> list[Source]:
    """Notes, quotes, tickers and liquidations of one instrument; returns its book's sources (the
    quotes stream as a one-level book when there is no order book file)."""
    books = [s for s in group if s.kind is Kind.BOOK]
    snapshots = [s for s in group if s.kind is Kind.BOOK_SNAPSHOT]
    if books and snapshots:
        inst.notes.append(
            f"{inst.symbol}: both incremental_book_L2 and book_snapshot files given; "
            "the book is rebuilt from incremental_book_L2 only"
        )
    book_sources = books or snapshots
    with_orders = [s for s in books if s.orders is not None]
    if len(with_orders) == 1 and len(books) == 1:
        inst.orders = with_orders[0].orders
    elif with_orders:
        inst.notes.append(
            f"{inst.symbol}: several market-by-order files make one L2 book; the order-by-order view "
            "and exact queue positions need a single file"
        )
    inst.sequence_gaps = sorted((g for s in book_sources for g in s.gaps), key=lambda g: g.start_ts)
    quote_sources = [s for s in group if s.kind in TOP_OF_BOOK_KINDS and s.rows]
    if quote_sources:
        # book_ticker is the exchange's own BBO stream: prefer it over quotes when both exist.
        tickers_only = [s for s in quote_sources if s.kind is Kind.BOOK_TICKER]
        inst.quotes = QuoteStream.from_sources(tickers_only or quote_sources)
        if not book_sources:
            book_sources = [quotes_as_book_source(tickers_only or quote_sources)]
            inst.top_of_book_only = True
            inst.notes.append(
                f"{inst.symbol}: no order book file; the book is the {inst.quotes.kind.value} stream's "
                "best bid/offer (one level per side)"
            )
    ticker_sources = [s for s in group if s.kind is Kind.DERIVATIVE_TICKER and s.rows]
    if ticker_sources:
        inst.tickers = TickerStream.from_sources(ticker_sources)
    liq_sources = [s for s in group if s.kind is Kind.LIQUIDATIONS and s.rows]
    if liq_sources:
        inst.liquidations = LiquidationStream.from_sources(liq_sources)
    return book_sources


def build_instruments(
    sources: Sequence[Source],
    *,
    progress: Callable[[float, str], object] | None = None,
    cancel: Callable[[], bool] | None = None,
    progressive: bool = False,
) -> OpenedData:
    """Group sources by (exchange, symbol), prepare each book and index it out of core
    (``replay.indexing``): the result's timeline and indexes are mapped from the cache folder.

    The index pass also records the best bid/ask after every message, which the charts use as
    the top-of-book history (no second pass needed). With ``progressive=True`` only the first
    part is indexed and the rest is left in ``result.job``.
    """
    from replayterm.core.replay.indexing import index_instruments

    result = index_instruments(
        group_sources(sources), Instrument, _prepare, _trade_stream, cancel=cancel, progress=progress
    )
    job = result.job
    # Tickers and liquidations are merged into the timeline in memory and the BBO check reads
    # the whole top-of-book history: with those, the books are indexed completely first.
    others = any(i.tickers is not None or i.liquidations is not None or i.quotes is not None for i in result)
    if job is None:
        return result
    if progressive and not others:
        # Enough for the first frame: everything at the first timestamp is replayable.
        timeline = result.timeline
        while not job.step() and timeline is not None and timeline.ready_ts < (timeline.start_ts or 0):
            if cancel is not None and cancel():
                job.discard()
                raise Cancelled("indexing cancelled")
        return result
    job.run(progress, cancel, "indexing book")
    return result.indexed()


def group_sources(sources: Sequence[Source]) -> dict[tuple[str, str], list[Source]]:
    by_key: dict[tuple[str, str], list[Source]] = {}
    for source in sources:
        by_key.setdefault((source.exchange, source.symbol), []).append(source)
    return by_key
