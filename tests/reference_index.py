"""The reference index the out-of-core one is tested against (tests only): every book's events
and checkpoints built in memory with a checkpoint byte budget, no cache, no timeline files."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from replayterm.core.book import BookEvents, BookReplayer
from replayterm.core.data.model import Source
from replayterm.core.replay.instruments import (
    _TRADE_KINDS,
    TOP_OF_BOOK_KINDS,
    Instrument,
    TradeStream,
    _concat_sorted,
    _prepare,
    group_sources,
)


def build_in_memory(
    sources: Sequence[Source],
    budget_fraction: float,
    progress: Callable[[float, str], object] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[Instrument]:
    """The reference index the out-of-core one is tested against: every book's events and
    checkpoints built in memory with a checkpoint byte budget (tests and benchmarks only)."""
    by_key = group_sources(sources)
    instruments: list[Instrument] = []
    total_book_rows = (
        sum(s.rows * (1 if s.is_book else 2) for s in sources if s.is_book or s.kind in TOP_OF_BOOK_KINDS)
        or 1
    )
    done_rows = 0
    for (exchange, symbol), group in by_key.items():
        inst = Instrument(exchange, symbol)
        book_sources = _prepare(inst, group)
        if book_sources and sum(s.rows for s in book_sources):
            events = BookEvents.from_sources(book_sources)
            replayer = BookReplayer(events)
            rows = events.n_rows
            start = done_rows

            def report(fraction: float, start: int = start, rows: int = rows, sym: str = symbol) -> None:
                if progress is not None:
                    progress((start + fraction * rows) / total_book_rows, f"indexing {sym} book")

            budget = int(events.source_nbytes * budget_fraction)
            replayer.build_checkpoints(budget_bytes=budget, record_best=True, progress=report, cancel=cancel)
            done_rows += rows
            inst.book = replayer
        trade_sources = [s for s in group if s.kind in _TRADE_KINDS and s.rows]
        if trade_sources:
            cols = _concat_sorted(trade_sources, ("local_ts", "exch_ts", "price", "amount", "side"))
            inst.trades = TradeStream(
                cols["local_ts"], cols["exch_ts"], cols["price"], cols["amount"], cols["side"]
            )
        if inst.has_events:
            instruments.append(inst)
    return instruments
