"""Normalized batches -> one contiguous group per (exchange, symbol), file order inside each.

``GroupedRows`` routes each batch's rows to their group (groups numbered by first appearance),
clamps each group's receive time (``ordering.Clock``) and hands the rows to a store:
``MemoryStore`` keeps them (no cache), ``SpillStore`` writes them to disk with bounded memory.
A file holding one symbol is written straight into the cache file; when a second symbol shows up,
every group's rows are buffered a little and spilled to a temporary file of its own, and the
parts are copied into the cache file in group order at the end (memory-mapped, never held).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc

from replayterm.core.data.cache import CacheEntry, IpcFileWriter
from replayterm.core.data.ordering import Clock

EXCHANGE, SYMBOL, LOCAL_TS = 0, 1, 2  # column positions in every normalized schema


class GroupStore(Protocol):
    def append(self, group: int, batch: pa.RecordBatch) -> None: ...

    def discard(self) -> None: ...


class GroupedRows:
    """Splits normalized batches by (exchange, symbol) and clamps each group's receive time."""

    def __init__(self, store: GroupStore) -> None:
        self.store = store
        self.keys: dict[int, int] = {}  # packed (exchange code, symbol code) -> group
        self.pairs: list[tuple[int, int]] = []
        self.clocks: list[Clock] = []
        self.file_rows = 0

    def _group(self, key: int) -> int:
        group = self.keys.get(key)
        if group is None:
            group = self.keys[key] = len(self.pairs)
            self.pairs.append((key >> 16, key & 0xFFFF))
            self.clocks.append(Clock())
        return group

    def add_empty_group(self) -> None:
        """The file's first (exchange, symbol) as a group without rows."""
        self._group(0)

    def add(self, batch: pa.RecordBatch, file_rows: int, counts: np.ndarray | None = None) -> None:
        """Route ``batch`` (``file_rows`` lines of the file; ``counts``: rows each line became)."""
        one_symbol = len(batch.column(EXCHANGE).dictionary) == len(batch.column(SYMBOL).dictionary) == 1
        if batch.num_rows and one_symbol:
            self._put(self._group(0), batch, None, counts)  # one symbol so far: every code is 0
        elif batch.num_rows:
            exchange = batch.column(EXCHANGE).indices.to_numpy().astype(np.int32)
            symbol = batch.column(SYMBOL).indices.to_numpy().astype(np.int32)
            keys = (exchange << 16) | symbol
            if keys.size == 1 or keys.min() == keys.max():
                self._put(self._group(int(keys[0])), batch, None, counts)
            else:
                unique, first = np.unique(keys, return_index=True)
                groups_of_unique = np.array([self._group(int(k)) for k in unique[np.argsort(first)]])
                lookup = np.empty(unique.size, np.int64)
                lookup[np.argsort(first)] = groups_of_unique
                groups = lookup[np.searchsorted(unique, keys)]
                order = np.argsort(groups, kind="stable")
                taken = batch.take(pa.array(order))
                bounds = np.flatnonzero(np.diff(groups[order])) + 1
                for start, end in zip([0, *bounds.tolist()], [*bounds.tolist(), keys.size], strict=True):
                    group = int(groups[order[start]])
                    self._put(group, taken.slice(start, end - start), order[start:end], counts)
        self.file_rows += file_rows

    def _put(
        self, group: int, part: pa.RecordBatch, positions: np.ndarray | None, counts: np.ndarray | None
    ) -> None:
        clock = self.clocks[group]
        clamped = clock.clamp(part.column(LOCAL_TS).to_numpy())
        if clamped is not None:
            running, raised = clamped
            rows = raised if positions is None else positions[raised]
            if counts is not None:  # book_snapshot_N: level rows -> file lines
                rows = np.unique(np.repeat(np.arange(counts.size), counts)[rows])
            if clock.first_backwards is None:
                clock.first_backwards = self.file_rows + int(rows[0])
            clock.clamped_file_rows += int(rows.size)
            part = part.set_column(LOCAL_TS, part.schema.field(LOCAL_TS), pa.array(running))
        self.store.append(group, part)


def _indices_only(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch with exchange/symbol as plain int16 codes (dictionaries grow while reading)."""
    columns = list(batch.columns)
    for i in (EXCHANGE, SYMBOL):
        columns[i] = columns[i].indices
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def with_dictionaries(
    batch: pa.RecordBatch, schema: pa.Schema, dicts: tuple[pa.Array, pa.Array]
) -> pa.RecordBatch:
    """Give a batch (dictionary or plain codes) the final exchange/symbol dictionaries."""
    columns = list(batch.columns)
    for i, values in zip((EXCHANGE, SYMBOL), dicts, strict=True):
        codes = columns[i].indices if pa.types.is_dictionary(columns[i].type) else columns[i]
        columns[i] = pa.DictionaryArray.from_arrays(codes, values)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


class MemoryStore:
    """Keeps every group's batches (used when the cache is off)."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema
        self.parts: list[list[pa.RecordBatch]] = []

    def append(self, group: int, batch: pa.RecordBatch) -> None:
        while len(self.parts) <= group:
            self.parts.append([])
        self.parts[group].append(batch)

    def table(self, dicts: tuple[pa.Array, pa.Array]) -> pa.Table:
        batches = [with_dictionaries(b, self.schema, dicts) for part in self.parts for b in part]
        return pa.Table.from_batches(batches, schema=self.schema)

    def discard(self) -> None:
        self.parts = []


class SpillStore:
    """Writes groups into one cache file, contiguous and in order, with bounded memory."""

    GROUP_ROWS = 1 << 16  # a group's buffered rows are spilled at this size...
    TOTAL_ROWS = 1 << 20  # ...and all groups' when the buffers hold this many rows together

    def __init__(self, entry: CacheEntry, schema: pa.Schema) -> None:
        self.entry = entry
        self.schema = schema
        self.direct: IpcFileWriter | None = None  # while the file has a single group
        self.head: Path | None = None  # group 0's rows written before a second group appeared
        self.groups = 0
        self.spills: list[tuple[Path, pa.NativeFile, ipc.RecordBatchStreamWriter] | None] = []
        self.buffers: list[list[pa.RecordBatch]] = []
        self.buffered: list[int] = []
        self.total_buffered = 0
        self.spill_schema: pa.Schema | None = None
        self.temp: list[Path] = []

    @property
    def bytes_written(self) -> int:
        total = self.direct.bytes_written() if self.direct is not None else 0
        for path in self.temp:
            with contextlib.suppress(OSError):
                total += path.stat().st_size
        return total

    def append(self, group: int, batch: pa.RecordBatch) -> None:
        self.groups = max(self.groups, group + 1)
        if self.groups == 1 and self.head is None:
            if self.direct is None:
                self.direct = IpcFileWriter(self._temp(".arrow"), self.schema)
            self.direct.write(batch)
            return
        if self.direct is not None:  # a second group: the direct file becomes group 0's head
            self.direct.close()
            self.head, self.direct = self.direct.path, None
        while len(self.buffers) < self.groups:
            self.buffers.append([])
            self.buffered.append(0)
            self.spills.append(None)
        plain = _indices_only(batch)
        self.buffers[group].append(plain)
        self.buffered[group] += plain.num_rows
        self.total_buffered += plain.num_rows
        if self.buffered[group] >= self.GROUP_ROWS:
            self._flush(group)
        if self.total_buffered >= self.TOTAL_ROWS:
            for g in range(self.groups):
                self._flush(g)

    def _temp(self, suffix: str) -> Path:
        path = self.entry.temp_path(suffix)
        self.temp.append(path)
        return path

    def _flush(self, group: int) -> None:
        if not self.buffers[group]:
            return
        table = pa.Table.from_batches(self.buffers[group]).combine_chunks()
        spill = self.spills[group]
        if spill is None:
            path = self._temp(f".group{group}")
            sink = pa.OSFile(str(path), "wb")
            spill = self.spills[group] = (path, sink, ipc.new_stream(sink, table.schema))
        for batch in table.to_batches():
            spill[2].write_batch(batch)
        self.total_buffered -= self.buffered[group]
        self.buffers[group], self.buffered[group] = [], 0

    def _parts(self, group: int) -> Iterator[pa.RecordBatch]:
        if group == 0 and self.head is not None:
            reader = ipc.open_file(pa.memory_map(str(self.head), "r"))
            for i in range(reader.num_record_batches):
                yield reader.get_batch(i)
        spill = self.spills[group] if group < len(self.spills) else None
        if spill is not None:
            yield from ipc.open_stream(pa.memory_map(str(spill[0]), "r"))

    def finish(self, dicts: tuple[pa.Array, pa.Array], progress: Callable[[float], None]) -> tuple[Path, int]:
        """The finished table file and its batch count."""
        if self.direct is not None:
            self.direct.close()
            path, batches = self.direct.path, self.direct.batches
            self.temp.remove(path)
            self.direct = None
            return path, batches
        if self.head is None:  # lines but no rows (book_snapshot_N lines with every level empty)
            empty = IpcFileWriter(self._temp(".arrow"), self.schema)
            empty.close()
            self.temp.remove(empty.path)
            return empty.path, 0
        for group in range(self.groups):
            self._flush(group)
        for spill in self.spills:
            if spill is not None:
                spill[2].close()
                spill[1].close()
        final = IpcFileWriter(self._temp(".arrow"), self.schema)
        for group in range(self.groups):
            progress(group / self.groups)
            for batch in self._parts(group):
                final.write(with_dictionaries(batch, self.schema, dicts))
        final.close()
        self.temp.remove(final.path)
        self.discard()
        return final.path, final.batches

    def discard(self) -> None:
        if self.direct is not None:
            self.direct.discard()
            self.direct = None
        for spill in self.spills:
            if spill is not None:
                for closable in (spill[2], spill[1]):
                    with contextlib.suppress(OSError, pa.ArrowException, ValueError):
                        closable.close()
        self.spills = []
        for path in self.temp:
            path.unlink(missing_ok=True)
        self.temp = []
