"""Raw recordings of exchange feeds opened like any data file: a tardis-dev/tardis-machine cache
folder, hftbacktest collector captures and cryptofeed v3 recordings (``containers``), normalized
by tardis-dev's rules (``binance``, ``bybit``), their sequences checked (``book_sync``), and
returned as the same per-symbol ``Source`` tables as the CSV path, each book source carrying the
sequence gaps found in it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from replayterm.core.data.model import Kind, Source
from replayterm.core.data.sources.raw import containers
from replayterm.core.data.sources.raw.binance import BinanceFeed
from replayterm.core.data.sources.raw.book_sync import BookSync
from replayterm.core.data.sources.raw.bybit import BybitFeed
from replayterm.core.data.sources.raw.containers import Damage, Message, detect
from replayterm.core.data.sources.raw.gaps import SequenceGap
from replayterm.core.data.sources.raw.tables import RawTables
from replayterm.core.errors import DataError

__all__ = ["RawRecording", "SequenceGap", "detect", "is_raw", "open_raw"]


def is_raw(path: Path) -> bool:
    return detect(path) is not None


@dataclass
class RawRecording:
    sources: list[Source]
    gaps: list[SequenceGap] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    messages: int = 0


def _messages(
    fmt: str, paths: list[Path], damage: Damage, lo: int | None, hi: int | None
) -> Iterator[Message]:
    if fmt == "collector":
        yield from containers.collector(paths, damage)
    elif fmt == "tardis-slice":
        for p in paths:
            yield from containers._lines(p, "iso", damage, _slice_exchange(p))
    elif fmt == "tardis-cache":
        sets = [s for p in paths for s in containers.tardis_slices(p)]
        yield from containers.tardis(sets, damage, lo, hi)
    elif fmt == "cryptofeed":
        for p in paths:
            yield from containers.cryptofeed(p, damage)


def _slice_exchange(path: Path) -> str | None:
    parts = path.parts
    return parts[parts.index("feeds") + 1] if "feeds" in parts[:-6] else None


def open_raw(
    paths: Sequence[Path],
    *,
    lo: int | None = None,
    hi: int | None = None,
    progress: Callable[[float, str], object] | None = None,
    check: Callable[[], object] | None = None,
) -> RawRecording:
    """Normalize raw recordings of one layout (several files: one continuous stream, in the
    order given) into sources; ``lo``/``hi`` keep receive times in ``[lo, hi)``."""
    paths = list(paths)
    fmts = {detect(p) for p in paths}
    if len(fmts) != 1 or None in fmts:
        raise DataError(
            paths[0], "not one kind of raw recording", hint="Open recordings of one layout together"
        )
    fmt = fmts.pop()
    assert fmt is not None
    out = RawTables()
    binance: dict[str | None, BinanceFeed] = {}
    bybit: dict[str, BybitFeed] = {}
    damage = Damage()
    unknown = 0
    n = 0
    for n, m in enumerate(_messages(fmt, paths, damage, lo, hi), 1):
        if check is not None and n % 4096 == 0:
            check()
            if progress is not None:
                progress(0.0, f"reading {paths[0].name}: {n:,} messages")
        body = m.body
        if "stream" in body or "lastUpdateId" in body:
            feed = binance.get(m.exchange)
            if feed is None:
                feed = binance[m.exchange] = BinanceFeed(out, m.exchange)
            feed.message(m.local, body)
        elif "topic" in body:
            ex = m.exchange or "bybit"
            bfeed = bybit.get(ex)
            if bfeed is None:
                bfeed = bybit[ex] = BybitFeed(out, ex)
            bfeed.message(m.local, body, ex)
        else:
            unknown += 1
    books: list[BookSync] = [b for f in binance.values() for b in f.books.values()]
    books += [b for f in bybit.values() for b in f.books.values()]
    for b in books:
        b.finish()
    return _recording(paths[0], fmt, out, books, damage, n, unknown, lo, hi)


def _recording(
    path: Path,
    fmt: str,
    out: RawTables,
    books: list[BookSync],
    damage: Damage,
    messages: int,
    unknown: int,
    lo: int | None,
    hi: int | None,
) -> RawRecording:
    from replayterm.core.data.open import rows_before_snapshot, time_slice

    by_book = {(b.exchange, b.symbol): b for b in books}
    notes = []
    if damage.count:
        notes.append(
            f"{damage.count} line(s) could not be read and were skipped (their messages are missing): "
            + "; ".join(damage.first)
        )
    sources = []
    for (exchange, symbol, kind), table in sorted(
        out.tables().items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2].value)
    ):
        _start, table = time_slice(table, lo, hi)
        warnings = list(notes)
        gaps: list[SequenceGap] = []
        sync = by_book.get((exchange, symbol)) if kind is Kind.BOOK else None
        if sync is not None:
            gaps = list(sync.gaps)
            if sync.dropped:
                warnings.append(
                    f"{sync.dropped} depth update(s) older than the book were dropped "
                    "(duplicates, late copies)"
                )
            if sync.outside_depth:
                warnings.append(
                    f"{sync.outside_depth} update level(s) lie beyond the last snapshot's depth: the book "
                    "there holds only what changed since the snapshot"
                )
        clamped = out.clamped(exchange, symbol, kind)
        if clamped:
            warnings.append(f"{clamped} message(s) arrived with an earlier receive time than one before them")
        src = Source(
            path=path,
            kind=kind,
            exchange=exchange,
            symbol=symbol,
            table=table,
            rows_before_snapshot=rows_before_snapshot(table) if kind is Kind.BOOK else 0,
            unsorted_rows=clamped,
            warnings=warnings,
            cache_state="off",
            gaps=gaps,
        )
        sources.append(src)
    if not sources:
        raise DataError(
            path,
            f"no book, trade or quote messages found in this {fmt} recording",
            hint="Binance spot/USD-M/COIN-M and Bybit v5 streams are supported",
        )
    every_gap = sorted((g for b in books for g in b.gaps), key=lambda g: (g.start_ts, g.symbol))
    return RawRecording(sources, every_gap, notes, messages)
