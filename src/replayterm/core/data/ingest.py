"""One input file -> its normalized table grouped by symbol, using or filling the cache."""

from __future__ import annotations

import contextlib
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from replayterm.core.data import cache_admin
from replayterm.core.data.cache import (
    RECEIVE_SCHEMA,
    CacheEntry,
    commit_entry,
    disk_full_error,
    is_disk_full,
    remove_path,
)
from replayterm.core.data.columnar_source import ColumnarReader, is_columnar
from replayterm.core.data.csv_source import GZIP_MAGIC, CsvReader
from replayterm.core.data.fast_parse import FastParser, Parsed, ParserCounts
from replayterm.core.data.grouping import GroupedRows, MemoryStore, SpillStore
from replayterm.core.data.layout import Layout, detect_layout
from replayterm.core.data.model import Kind
from replayterm.core.data.normalize import Normalizer, RowError
from replayterm.core.data.postgres.reader import PostgresReader
from replayterm.core.data.prefetch import prefetch
from replayterm.core.data.progress import Monitor
from replayterm.core.errors import DataError
from replayterm.core.store.locks import EntryLock, acquire

Reader = CsvReader | ColumnarReader | PostgresReader
PARSER_ENV = "REPLAYTERM_PARSER"  # "general": always the pyarrow reader (for comparisons)


@dataclass
class Ingested:
    """A file's normalized rows: one contiguous group per (exchange, symbol), each in file order
    with a non-decreasing local_ts."""

    path: Path
    kind: Kind
    snapshot_depth: int | None
    table: pa.Table
    groups: list[dict[str, Any]]  # exchange, symbol, start, length, clamped_rows, warnings
    file_format: str
    cache_state: str
    notes: list[str] = field(default_factory=list)
    # Per group: (rows within the group, raw local_timestamp) of rows whose time was clamped.
    receive_fixes: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    # Which CSV parser read the rows ("compiled", "general", ...); "" for Parquet/Arrow.
    parser: str = ""


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
    if path.name.lower().endswith(".gz") and not magic.startswith(GZIP_MAGIC):
        raise DataError(
            path,
            "not a gzip file: the name ends in .gz but the data does not start with gzip's signature",
            hint="Download or copy the file again, or rename it if it is not compressed",
        )
    return CsvReader(path, size, magic)


def ingest(path: Path, monitor: Monitor, use_cache: bool = True, reader: Reader | None = None) -> Ingested:
    """``reader``: one made already (a database query's); by default the file's, from its first bytes."""
    reader = reader if reader is not None else open_reader(path)
    entry: CacheEntry | None = None
    notes: list[str] = []
    lock: EntryLock | None = None
    if use_cache:
        try:
            entry = CacheEntry(path)
        except OSError as exc:
            notes.append(f"cache not used: {exc}")
        if entry is not None:
            monitor.report(0.0, f"opening {path.name}")
            try:
                lock = _lock_entry(entry, monitor)
            except OSError as exc:  # a read-only cache folder: read without it
                notes.append(f"cache not written: {exc}")
                entry = None
    try:
        return _open_locked(path, reader, entry, lock, monitor, notes)
    finally:
        if lock is not None:
            lock.release()


def _lock_entry(entry: CacheEntry, monitor: Monitor) -> EntryLock | None:
    """Wait for the entry's lock (another process may be converting the same file right now)."""
    return acquire(
        entry.lock_file,
        cancel=monitor.cancel,
        waiting=lambda: monitor.report(0.0, f"waiting for another process converting {entry.source.name}"),
    )


def _open_locked(
    path: Path,
    reader: Reader,
    entry: CacheEntry | None,
    lock: EntryLock | None,
    monitor: Monitor,
    notes: list[str],
) -> Ingested:
    if entry is not None:
        if lock is not None:
            entry.clear_leftovers()  # we are the only writer: any temporary file is a dead build's
        hit = entry.load()
        if hit is not None:
            cache_admin.mark_in_use(entry.stem)
            table, meta = hit
            fixes = [
                entry.receive_times(i) if g["clamped_rows"] else _NO_FIXES
                for i, g in enumerate(meta["groups"])
            ]
            return Ingested(
                path,
                Kind(meta["kind"]),
                meta["snapshot_depth"],
                table,
                meta["groups"],
                meta["file_format"],
                "hit",
                notes,
                fixes,
                meta.get("parser", ""),
            )
        try:
            entry.writable()
        except OSError as exc:
            notes.append(f"cache not written: {exc}")
            entry = None
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


def _row_error(reader: Reader, problem: RowError, offset: int, layout: Layout) -> DataError:
    line, prefix = reader.where(offset + problem.row)
    value = problem.value
    if line is not None and isinstance(reader, CsvReader) and problem.column in layout.columns:
        # The value as the file writes it ('NaN'), not as it was parsed ('nan').
        column = layout.file_columns[layout.columns.index(problem.column)]
        value = reader.field_at(line, column) or value
    return DataError(
        reader.path,
        prefix + problem.explanation,
        line=line,
        column=problem.column,
        value=value,
        hint=problem.hint,
    )


_NO_FIXES = (np.zeros(0, np.int64), np.zeros(0, np.int64))


def _build(reader: Reader, entry: CacheEntry | None, monitor: Monitor, notes: list[str]) -> Ingested:
    path = reader.path
    hint_kind, hint_depth = reader.stored_kind() if isinstance(reader, ColumnarReader) else (None, None)
    layout = detect_layout(reader.header(), path, hint=hint_kind)
    kind, depth = layout.kind, layout.snapshot_depth
    if hint_kind is Kind.BOOK_SNAPSHOT and kind is Kind.BOOK:
        kind, depth = Kind.BOOK_SNAPSHOT, hint_depth
    normalizer = Normalizer(layout)
    memory = MemoryStore(normalizer.schema) if entry is None else None
    spill = SpillStore(entry, normalizer.schema) if entry is not None else None
    grouped = GroupedRows(memory if memory is not None else spill)  # type: ignore[arg-type]
    fraction = 0.0
    files: list[Path] = []
    parser = fast_parser(reader, layout)
    counts = ParserCounts()
    try:
        items = prefetch(lambda: _raw_batches(reader, layout, parser, counts))
        with contextlib.closing(items) as raw_batches:
            for raw, fraction in raw_batches:
                try:
                    if isinstance(raw, Parsed):
                        batch, rows = normalizer.adopt(raw), raw.file_rows
                    else:
                        batch, rows = normalizer.normalize(raw), raw.num_rows
                except RowError as problem:
                    raise _row_error(reader, problem, grouped.file_rows, layout) from None
                grouped.add(batch, rows, normalizer.last_counts)
                monitor.report(0.9 * fraction, f"reading {path.name}")
        if grouped.file_rows == 0:
            raise DataError(
                path, "no data rows: the file has only a header", hint="Check that the download is complete"
            )
        if not grouped.pairs:  # lines but no rows: one empty group, as for any other file
            grouped.add_empty_group()
        dicts = (normalizer.dictionary("exchange"), normalizer.dictionary("symbol"))
        described = [_describe(reader, normalizer, grouped, g, monitor) for g in range(len(grouped.pairs))]
        fixes = [_fixes(c.fixes) for c in grouped.clocks]
        fmt = reader.file_format
        used = "" if isinstance(reader, ColumnarReader) else counts.label if parser is not None else "general"
        if memory is not None:
            table = memory.table(dicts)
            return Ingested(path, kind, depth, table, described, fmt, "off", notes, fixes, used)
        assert spill is not None
        assert entry is not None
        monitor.report(0.9, f"caching {path.name}")
        table_file, batches = spill.finish(
            dicts, lambda f: monitor.report(0.9 + 0.08 * f, f"caching {path.name}")
        )
        files.append(table_file)
        receive_file = _write_fixes(entry, fixes, files)
        monitor.check()
        if not entry.still_current():
            notes.append("cache not written: the file changed while it was read")
            table = _map_unlinked(table_file)
            return Ingested(path, kind, depth, table, described, fmt, "off", notes, fixes, used)
        meta = {"kind": kind.value, "snapshot_depth": depth, "file_format": fmt, "parser": used}
        meta["source"] = str(entry.source)
        commit_entry(entry, table_file, receive_file, {**meta, "groups": described}, batches)
        files.clear()
        cache_admin.mark_in_use(entry.stem)
        with contextlib.suppress(OSError):
            cache_admin.evict(entry.root)
        loaded = entry.load()
        if loaded is None:
            raise DataError(path, "the cache entry just written does not read back", hint=_CACHE_HINT)
        return Ingested(path, kind, depth, loaded[0], described, fmt, "built", notes, fixes, used)
    except BaseException as exc:
        written = spill.bytes_written if spill is not None else 0
        written += sum(p.stat().st_size for p in files if p.exists())
        if spill is not None:
            spill.discard()
        for leftover in files:
            remove_path(leftover)
        if entry is not None and is_disk_full(exc):
            needed = int(written / max(fraction, 0.01)) if written else reader_size(reader)
            raise disk_full_error(path, entry.root, needed) from exc
        if entry is not None and isinstance(exc, OSError):  # readers turn their own errors into DataError
            raise DataError(
                path, f"the cache could not be written ({exc}); nothing was cached", hint=_CACHE_HINT
            ) from exc
        raise


def fast_parser(reader: Reader, layout: Layout) -> FastParser | None:
    """The compiled parser for an exact Tardis header (``REPLAYTERM_PARSER=general`` turns it off)."""
    if not isinstance(reader, CsvReader) or os.environ.get(PARSER_ENV, "").lower() == "general":
        return None
    return FastParser.for_layout(layout, reader.header_names, reader.first_line)


def _raw_batches(
    reader: Reader, layout: Layout, parser: FastParser | None, counts: ParserCounts
) -> Iterator[tuple[Parsed | pa.RecordBatch, float]]:
    if parser is not None and isinstance(reader, CsvReader):
        return reader.fast_batches(layout, parser, counts)
    return reader.batches(layout)


_CACHE_HINT = (
    "Check the cache folder (REPLAYTERM_CACHE_DIR) is writable and has space, or run 'replayterm cache clear'"
)


def reader_size(reader: Reader) -> int:
    if isinstance(reader, PostgresReader):
        return 0
    try:
        return reader.path.stat().st_size
    except OSError:
        return 0


def _fixes(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    if not parts:
        return _NO_FIXES
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _write_fixes(
    entry: CacheEntry, fixes: list[tuple[np.ndarray, np.ndarray]], files: list[Path]
) -> Path | None:
    """The raw receive times of clamped rows, as a small Arrow file beside the entry."""
    if not any(rows.size for rows, _ in fixes):
        return None
    path = entry.temp_path(".recv.arrow")
    files.append(path)
    groups = np.concatenate([np.full(rows.size, g, np.int32) for g, (rows, _) in enumerate(fixes)])
    table = pa.table(
        [
            pa.array(groups),
            pa.array(np.concatenate([f[0] for f in fixes])),
            pa.array(np.concatenate([f[1] for f in fixes])),
        ],
        schema=RECEIVE_SCHEMA,
    )
    with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, RECEIVE_SCHEMA) as writer:
        writer.write_table(table)
    return path


def _map_unlinked(path: Path) -> pa.Table:
    """Memory-map a finished temporary table, then delete its name (the mapping stays valid)."""
    table = ipc.open_file(pa.memory_map(str(path), "r")).read_all()
    path.unlink(missing_ok=True)
    return table


def _describe(
    reader: Reader, normalizer: Normalizer, grouped: GroupedRows, group: int, monitor: Monitor
) -> dict[str, Any]:
    exchange, symbol = grouped.pairs[group]
    clock = grouped.clocks[group]
    start = sum(c.rows for c in grouped.clocks[:group])
    warnings = []
    if clock.clamped_file_rows and clock.first_backwards is not None:
        monitor.report(0.9, f"finding the line where time steps back in {reader.path.name}")
        line, prefix = reader.where(clock.first_backwards, monitor.check)
        at = f"line {line}" if line is not None else prefix.rstrip(": ")
        warnings.append(
            f"local_timestamp goes backwards at {at}; {clock.clamped_file_rows} rows arrived with an "
            "earlier receive time than a row before them: they keep file order and are replayed at the "
            "latest receive time seen (their own times are kept for export)"
        )
    return {
        "exchange": normalizer.exchanges[exchange],
        "symbol": normalizer.symbols[symbol],
        "start": start,
        "length": clock.rows,
        "clamped_rows": clock.clamped_file_rows,
        "warnings": warnings,
    }
