"""One input file -> its normalized table grouped by symbol, using or filling the cache."""

from __future__ import annotations

import contextlib
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from replayterm.core.data import ordering
from replayterm.core.data.cache import CacheEntry, CacheWriter
from replayterm.core.data.columnar_source import ColumnarReader, is_columnar
from replayterm.core.data.csv_source import CsvReader
from replayterm.core.data.layout import detect_layout
from replayterm.core.data.model import Kind
from replayterm.core.data.normalize import Normalizer, RowError
from replayterm.core.data.progress import Monitor
from replayterm.core.errors import DataError

Reader = CsvReader | ColumnarReader


@dataclass
class Ingested:
    """A file's normalized rows: one contiguous group per (exchange, symbol), each by local_ts."""

    path: Path
    kind: Kind
    snapshot_depth: int | None
    table: pa.Table
    groups: list[dict[str, Any]]  # exchange, symbol, start, length, unsorted_rows, warnings
    file_format: str
    cache_state: str
    notes: list[str] = field(default_factory=list)


def open_reader(path: Path) -> Reader:
    try:
        if path.is_dir():
            raise DataError(path, "this is a folder, not a data file", hint="Give the data files inside it")
        size = path.stat().st_size
        with path.open("rb") as f:
            magic = f.read(8)
    except FileNotFoundError:
        raise DataError(path, "file not found", hint="Check the path") from None
    except OSError as exc:
        raise DataError(
            path, f"the file cannot be read ({exc.strerror or exc})", hint="Check its permissions"
        ) from None
    if size == 0:
        raise DataError(path, "empty file", hint="The file has no header and no data; download it again")
    if is_columnar(magic):
        return ColumnarReader(path, magic)
    return CsvReader(path, size, magic)


def ingest(path: Path, monitor: Monitor, use_cache: bool = True) -> Ingested:
    reader = open_reader(path)
    entry: CacheEntry | None = None
    notes: list[str] = []
    if use_cache:
        try:
            entry = CacheEntry(path)
        except OSError as exc:
            notes.append(f"cache not used: {exc}")
        if entry is not None:
            monitor.report(0.0, f"opening {path.name}")
            hit = entry.load()
            if hit is not None:
                table, meta = hit
                return Ingested(
                    path,
                    Kind(meta["kind"]),
                    meta["snapshot_depth"],
                    table,
                    meta["groups"],
                    meta["file_format"],
                    "hit",
                    notes,
                )
    try:
        return _build(reader, entry, monitor, notes)
    except (pa.ArrowException, OSError, ValueError, EOFError, zlib.error, UnicodeError) as exc:
        # The readers turn every expected failure into a DataError; this is the last guard so
        # that nothing from pyarrow, zlib or the OS reaches the user without the file's name.
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(
            path,
            f"the file could not be read ({message})",
            hint="Check that the file is complete and readable",
        ) from exc


def _row_error(reader: Reader, problem: RowError, offset: int) -> DataError:
    line, prefix = reader.where(offset + problem.row)
    return DataError(
        reader.path,
        prefix + problem.explanation,
        line=line,
        column=problem.column,
        value=problem.value,
        hint=problem.hint,
    )


class _CacheSink:
    """Feeds a cache writer: batch by batch while the file needs no reordering, else at the end."""

    def __init__(self, writer: CacheWriter | None, notes: list[str]) -> None:
        self.writer = writer
        self.notes = notes
        self.streaming = writer is not None

    def batch(self, batch: pa.RecordBatch, keep_streaming: bool) -> None:
        if self.writer is None or not self.streaming:
            return
        if not keep_streaming:
            self.writer.restart()
            self.streaming = False
        elif not _try(self.writer.write, batch, self.notes):
            self.close()

    def finish(self, entry: CacheEntry, table: pa.Table, meta: dict[str, Any]) -> bool:
        """Commit the entry; False (and nothing left behind) when it could not be written."""
        writer = self.writer
        if writer is None:
            return False
        written = self.streaming or _try(writer.write_table, table, self.notes)
        if written and not entry.still_current():
            self.notes.append("cache not written: the file changed while it was read")
            written = False
        if written and _try(lambda m: writer.commit(table.num_rows, m), meta, self.notes):
            return True
        self.close()
        return False

    def close(self) -> None:
        if self.writer is not None:
            self.writer.discard()
        self.writer, self.streaming = None, False


@dataclass
class _Rows:
    """What the read loop gathered: normalized batches plus per-file-row facts for reordering."""

    batches: list[pa.RecordBatch] = field(default_factory=list)
    ts: list[np.ndarray] = field(default_factory=list)
    codes: list[tuple[pa.Array, pa.Array]] = field(default_factory=list)
    counts: list[np.ndarray] = field(default_factory=list)
    file_rows: int = 0
    in_order: bool = True
    last_ts: int | None = None

    def add(self, raw: pa.RecordBatch, batch: pa.RecordBatch, normalizer: Normalizer) -> None:
        ts = raw.column("local_timestamp").to_numpy()
        if self.in_order and ts.size:
            if (self.last_ts is not None and ts[0] < self.last_ts) or bool(np.any(ts[1:] < ts[:-1])):
                self.in_order = False
            self.last_ts = int(ts[-1])
        self.batches.append(batch)
        self.ts.append(ts)
        self.codes.append(normalizer.last_codes)
        if normalizer.last_counts is not None:
            self.counts.append(normalizer.last_counts)
        self.file_rows += raw.num_rows


def _build(reader: Reader, entry: CacheEntry | None, monitor: Monitor, notes: list[str]) -> Ingested:
    path = reader.path
    hint_kind, hint_depth = reader.stored_kind() if isinstance(reader, ColumnarReader) else (None, None)
    layout = detect_layout(reader.header(), path, hint=hint_kind)
    kind, depth = layout.kind, layout.snapshot_depth
    if hint_kind is Kind.BOOK_SNAPSHOT and kind is Kind.BOOK:
        kind, depth = Kind.BOOK_SNAPSHOT, hint_depth
    normalizer = Normalizer(layout)
    sink = _CacheSink(entry.writer(normalizer.schema) if entry is not None else None, notes)
    rows = _Rows()
    try:
        with contextlib.closing(reader.batches(layout)) as raw_batches:
            for raw, fraction in raw_batches:
                try:
                    batch = normalizer.normalize(raw)
                except RowError as problem:
                    raise _row_error(reader, problem, rows.file_rows) from None
                rows.add(raw, batch, normalizer)
                single = len(normalizer.symbols) == 1 and len(normalizer.exchanges) == 1
                sink.batch(batch, keep_streaming=rows.in_order and single)
                monitor.report(0.9 * fraction, f"reading {path.name}")
        if rows.file_rows == 0:
            raise DataError(
                path, "no data rows: the file has only a header", hint="Check that the download is complete"
            )
        table = pa.Table.from_batches(rows.batches, schema=normalizer.schema)
        table, groups = _order(table, normalizer, rows)
        described = [_describe(reader, normalizer, g) for g in groups]
        state = "off"
        if entry is not None and sink.writer is not None:
            monitor.report(0.92, f"caching {path.name}")
            meta = {"kind": kind.value, "snapshot_depth": depth, "file_format": reader.file_format}
            if sink.finish(entry, table, {**meta, "groups": described}):
                loaded = entry.load()
                if loaded is not None:
                    table, state = loaded[0], "built"
    except BaseException:
        sink.close()
        raise
    return Ingested(path, kind, depth, table, described, reader.file_format, state, notes)


def _try(action: Any, arg: Any, notes: list[str]) -> bool:
    """Run a cache write; a full disk or a read-only cache folder only turns the cache off."""
    try:
        action(arg)
    except (OSError, pa.ArrowException) as exc:
        notes.append(f"cache not written: {exc}")
        return False
    return True


def _order(table: pa.Table, normalizer: Normalizer, rows: _Rows) -> tuple[pa.Table, list[ordering.Group]]:
    """Group rows by (exchange, symbol) and sort each group by local_ts (stable)."""
    symbols = len(normalizer.symbols)
    single = symbols == 1 and len(normalizer.exchanges) == 1
    if rows.in_order and single:
        return table, [ordering.Group(0, 0, table.num_rows)]
    table = normalizer.with_final_dictionaries(table)
    keys = None
    if not single:
        exchange = np.concatenate([c[0].to_numpy() for c in rows.codes]).astype(np.int64)
        symbol = np.concatenate([c[1].to_numpy() for c in rows.codes]).astype(np.int64)
        keys = exchange * symbols + symbol
    order, groups = ordering.plan(keys, np.concatenate(rows.ts))
    if rows.counts:  # book_snapshot_N: file rows -> book rows
        counts = np.concatenate(rows.counts).astype(np.int64)
        permuted = counts if order is None else counts[order]
        ends = np.cumsum(permuted)
        for g in groups:
            first, last = g.start, g.start + g.length
            start = int(ends[first - 1]) if first else 0
            end = int(ends[last - 1]) if last else 0
            g.start, g.length = start, end - start
        if order is not None:
            order = ordering.expand(order, counts)
    if order is not None:
        table = table.take(pa.array(order))
    return table, groups


def _describe(reader: Reader, normalizer: Normalizer, group: ordering.Group) -> dict[str, Any]:
    symbols = max(len(normalizer.symbols), 1)
    warnings = []
    if group.late_rows and group.first_backwards is not None:
        line, prefix = reader.where(group.first_backwards)
        at = f"line {line}" if line is not None else prefix.rstrip(": ")
        warnings.append(
            f"local_timestamp goes backwards at {at}; {group.late_rows} rows were out of order and were "
            "stably re-sorted by local_timestamp"
        )
    return {
        "exchange": normalizer.exchanges[group.key // symbols],
        "symbol": normalizer.symbols[group.key % symbols],
        "start": group.start,
        "length": group.length,
        "unsorted_rows": group.late_rows,
        "warnings": warnings,
    }
