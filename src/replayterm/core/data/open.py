"""``open_sources``: input files -> one ``Source`` per (file, exchange, symbol)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from replayterm.core.data.ingest import Ingested, ingest
from replayterm.core.data.mbo.open import is_mbo_file, open_mbo
from replayterm.core.data.model import Kind, Source
from replayterm.core.data.parallel import prefill
from replayterm.core.data.postgres.query import DatabaseQuery, is_database_url, redact
from replayterm.core.data.postgres.reader import PostgresReader
from replayterm.core.data.progress import CancelFn, Monitor, ProgressFn
from replayterm.core.data.timefmt import parse_time
from replayterm.core.errors import DataError

if TYPE_CHECKING:
    from replayterm.core.data.sources.raw import RawRecording

PathLike = str | os.PathLike[str]


def open_sources(
    paths: PathLike | Iterable[PathLike],
    *,
    from_ts: str | int | None = None,
    to_ts: str | int | None = None,
    use_cache: bool = True,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> list[Source]:
    """Read Tardis CSV (plain or .gz), Parquet, Arrow or market-by-order files (Databento DBN,
    LOBSTER), raw recordings (a tardis-dev cache folder, hftbacktest collector captures,
    cryptofeed ``.jsonl.zst``), or ``postgresql://…?table=…`` queries (see ``postgres.query``),
    into per-symbol sources.

    ``from_ts``/``to_ts`` (ISO-8601 UTC text or int µs) keep rows with
    ``from_ts <= local_ts < to_ts``; the cache always holds the whole file, so any range is served
    by one entry. ``progress(fraction, message)`` is called between batches; ``cancel()``
    returning True raises ``Cancelled``. Bad input raises ``DataError`` naming the file, the
    line and what to do. Sources come in argument order, then by first appearance of the symbol.
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    lo = None if from_ts is None else parse_time(from_ts)
    hi = None if to_ts is None else parse_time(to_ts)
    monitor = Monitor(progress, cancel)
    monitor.check()
    sources: list[Source] = []
    raw_runs: dict[str, list[tuple[int, Path]]] = {}
    queries = {i: str(item) for i, item in enumerate(items) if is_database_url(item)}
    files = [(i, Path(item)) for i, item in enumerate(items) if i not in queries]
    mbo = {i for i, p in files if is_mbo_file(p)}
    formats = {i: None if i in mbo else raw_format(p) for i, p in files}
    tables = [p for i, p in files if formats[i] is None and i not in mbo]
    rest = monitor
    if use_cache and len(tables) > 1:
        # Several large files (days of a set): converted in parallel first, then mapped one by one.
        head = Monitor(monitor.progress, monitor.cancel, monitor.start, monitor.span * 0.9)
        if prefill(tables, head):
            rest = Monitor(
                monitor.progress, monitor.cancel, monitor.start + monitor.span * 0.9, monitor.span * 0.1
            )
    for i, path in sorted([*files, *((i, None) for i in queries)], key=lambda f: f[0]):
        part = rest.part(i, len(items))
        if path is None:  # a database query, in argument order
            sources.extend(sources_of(ingest_query(queries[i], part, use_cache), lo, hi))
            continue
        if i in mbo:
            sources.extend(mbo_sources(open_mbo(path, part, use_cache), lo, hi))
            continue
        fmt = formats[i]
        if fmt is not None:
            raw_runs.setdefault(fmt, []).append((i, path))
            continue
        loaded = ingest(path, part, use_cache)
        sources.extend(sources_of(loaded, lo, hi))
    for run in raw_runs.values():
        # One layout's files are one continuous recording (days of a capture): the book and its
        # sequence checks carry over from one file to the next.
        part = rest.part(run[0][0], len(items))
        recording = open_raw(
            [p for _, p in run],
            lo=lo,
            hi=hi,
            progress=lambda f, m, part=part: part.report(f, m),
            check=part.check,
        )
        sources.extend(recording.sources)
    monitor.report(1.0, "done")
    return sources


def ingest_query(url: str, monitor: Monitor, use_cache: bool = True) -> Ingested:
    """A ``postgresql://…?table=…`` source: the cache entry of the query, or the database's rows."""
    try:
        query = DatabaseQuery.parse(url)
    except ValueError as exc:
        raise DataError(
            redact(url), str(exc), hint="See 'replayterm info --help' for the URL's form"
        ) from None
    return ingest(query.path, monitor, use_cache, reader=PostgresReader(query))


def raw_format(path: Path) -> str | None:
    """The raw recording layout of ``path`` (``sources.raw``), or None for a Tardis/columnar file."""
    from replayterm.core.data.sources.raw import detect

    return detect(path)


def open_raw(paths: list[Path], **kw: object) -> RawRecording:
    from replayterm.core.data.sources.raw import open_raw as _open_raw

    return _open_raw(paths, **kw)  # type: ignore[arg-type]


def sources_of(loaded: Ingested, lo: int | None = None, hi: int | None = None) -> list[Source]:
    result = []
    for index, group in enumerate(loaded.groups):
        table = loaded.table.slice(group["start"], group["length"])
        start, table = time_slice(table, lo, hi)
        rows, raw = loaded.receive_fixes[index] if loaded.receive_fixes else (np.zeros(0, np.int64),) * 2
        keep = (rows >= start) & (rows < start + table.num_rows)
        result.append(
            Source(
                path=loaded.path,
                kind=loaded.kind,
                exchange=group["exchange"],
                symbol=group["symbol"],
                table=table,
                snapshot_depth=loaded.snapshot_depth,
                rows_before_snapshot=rows_before_snapshot(table) if loaded.kind is Kind.BOOK else 0,
                unsorted_rows=group["clamped_rows"],
                warnings=[*loaded.notes, *group["warnings"]],
                cache_state=loaded.cache_state,
                parser=loaded.parser,
                receive_fixes=(rows[keep] - start, raw[keep]),
            )
        )
    return result


def mbo_sources(sources: list[Source], lo: int | None, hi: int | None) -> list[Source]:
    """MBO sources cut to ``[lo, hi)`` (the L3 data remembers where its L2 rows now start)."""
    if lo is None and hi is None:
        return sources
    for s in sources:
        start, s.table = time_slice(s.table, lo, hi)
        if s.orders is not None:
            s.orders = s.orders.sliced(start)
    return sources


def _first_at_or_after(ts: pa.ChunkedArray, value: int) -> int:
    """Index of the first row with local_ts >= value in a sorted column (zero copy per chunk)."""
    offset = 0
    for chunk in ts.chunks:
        n = len(chunk)
        if n and chunk[n - 1].as_py() >= value:
            return offset + int(np.searchsorted(chunk.to_numpy(), value, side="left"))
        offset += n
    return offset


def time_slice(table: pa.Table, lo: int | None, hi: int | None) -> tuple[int, pa.Table]:
    """The first row and the rows with ``lo <= local_ts < hi`` of a table whose local_ts never
    decreases (a zero-copy slice)."""
    if lo is None and hi is None:
        return 0, table
    ts = table.column("local_ts")
    start = 0 if lo is None else _first_at_or_after(ts, lo)
    stop = table.num_rows if hi is None else _first_at_or_after(ts, hi)
    return start, table.slice(start, max(stop - start, 0))


def rows_before_snapshot(table: pa.Table) -> int:
    """Book rows before the first snapshot row (the book skips them)."""
    offset = 0
    for chunk in table.column("is_snapshot").chunks:
        index = pc.index(chunk, True).as_py()
        if index is not None and index >= 0:
            return offset + int(index)
        offset += len(chunk)
    return offset
