"""What an instrument's open data gives the replay, in one line per type (for ``info --check``,
the app's book panel and warnings)."""

from __future__ import annotations

from replayterm.core.data.timefmt import format_time
from replayterm.core.replay.instruments import Instrument


def instrument_contents(inst: Instrument) -> list[str]:
    out: list[str] = []
    if inst.book is not None:
        events = inst.book.events
        if inst.top_of_book_only:
            kind = inst.quotes.kind.value if inst.quotes is not None else "quotes"
            out.append(f"book: one level per side from {kind} ({events.n_groups:,} quotes)")
        else:
            src = "book_snapshot" if events.full_snapshot_each_message else "incremental_book_L2"
            out.append(f"book: {src}, {events.n_groups:,} messages, {events.n_rows:,} rows")
    else:
        out.append("book: none (no ladder, no fills for strategies)")
    if inst.quotes is not None and not inst.top_of_book_only:
        out.append(f"{inst.quotes.kind.value}: {len(inst.quotes):,} rows (BBO check reference)")
    out.append(f"trades: {len(inst.trades):,}" if inst.trades is not None else "trades: none")
    if inst.tickers is not None:
        t = inst.tickers
        times = sorted({int(x) for x in t.funding_timestamp.tolist() if x > 0})
        funding = ", ".join(format_time(x) for x in times[:3]) + (" ..." if len(times) > 3 else "")
        out.append(f"derivative_ticker: {len(t):,} rows; funding times {funding or 'none'}")
    if inst.liquidations is not None:
        out.append(f"liquidations: {len(inst.liquidations):,}")
    return out
