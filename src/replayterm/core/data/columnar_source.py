"""Parquet and Arrow IPC (Feather) inputs with Tardis or normalized column names."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from replayterm.core.data.csv_source import READ_ERRORS
from replayterm.core.data.layout import Layout
from replayterm.core.data.model import Kind
from replayterm.core.data.normalize import raw_types
from replayterm.core.errors import DataError

PARQUET_MAGIC = b"PAR1"
ARROW_MAGIC = b"ARROW1"
FEATHER_V1_MAGIC = b"FEA1"
STREAM_MAGIC = b"\xff\xff\xff\xff"

# Schema metadata our converter writes so that a converted file reads back as the same type.
META_KIND = b"replayterm.kind"
META_DEPTH = b"replayterm.snapshot_depth"

BATCH_ROWS = 1 << 17


def is_columnar(magic: bytes) -> bool:
    return magic.startswith((PARQUET_MAGIC, ARROW_MAGIC, FEATHER_V1_MAGIC, STREAM_MAGIC))


class ColumnarReader:
    """A Parquet or Arrow file; rows are addressed by number (there are no lines)."""

    def __init__(self, path: Path, magic: bytes) -> None:
        self.path = path
        self.parquet = magic.startswith(PARQUET_MAGIC)
        self.file_format = "parquet" if self.parquet else "arrow"
        self._magic = magic
        try:
            self.schema = self._schema()
        except READ_ERRORS as exc:
            raise self._error(exc) from None

    def _error(self, exc: BaseException) -> DataError:
        what = "Parquet" if self.parquet else "Arrow"
        return DataError(
            self.path,
            f"not a readable {what} file ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})",
            hint="The file may be truncated or corrupt; write it again",
        )

    def _schema(self) -> pa.Schema:
        if self.parquet:
            return pq.read_schema(str(self.path))
        if self._magic.startswith(ARROW_MAGIC):
            return ipc.open_file(pa.memory_map(str(self.path))).schema
        if self._magic.startswith(STREAM_MAGIC):
            return ipc.open_stream(pa.memory_map(str(self.path))).schema
        return feather.read_table(str(self.path)).schema

    def header(self) -> list[str]:
        return list(self.schema.names)

    def stored_kind(self) -> tuple[Kind | None, int | None]:
        meta = self.schema.metadata or {}
        try:
            kind = Kind(meta[META_KIND].decode()) if META_KIND in meta else None
            depth = int(meta[META_DEPTH]) if META_DEPTH in meta else None
        except (ValueError, UnicodeDecodeError):
            return None, None
        return kind, depth

    def _raw_batches(self, columns: list[str]) -> Iterator[tuple[pa.RecordBatch, float]]:
        if self.parquet:
            pf = pq.ParquetFile(str(self.path))
            groups = max(pf.num_row_groups, 1)
            for i in range(pf.num_row_groups):
                for batch in pf.iter_batches(batch_size=BATCH_ROWS, row_groups=[i], columns=columns):
                    yield batch, (i + 1) / groups
            return
        if self._magic.startswith(ARROW_MAGIC):
            reader = ipc.open_file(pa.memory_map(str(self.path)))
            count = max(reader.num_record_batches, 1)
            for i in range(reader.num_record_batches):
                yield reader.get_batch(i).select(columns), (i + 1) / count
            return
        if self._magic.startswith(STREAM_MAGIC):
            for batch in ipc.open_stream(pa.memory_map(str(self.path))):
                yield batch.select(columns), 0.5
            return
        for batch in feather.read_table(str(self.path), columns=columns).to_batches(BATCH_ROWS):
            yield batch, 0.5

    def batches(self, layout: Layout) -> Generator[tuple[pa.RecordBatch, float], None, None]:
        types = raw_types(layout)
        names = list(layout.columns)
        try:
            for batch, fraction in self._raw_batches(list(layout.file_columns)):
                arrays = [
                    _coerce(self.path, batch.column(i), name, types[name]) for i, name in enumerate(names)
                ]
                yield pa.RecordBatch.from_arrays(arrays, names=names), fraction
        except READ_ERRORS as exc:
            raise self._error(exc) from None

    def where(self, row: int, check: Callable[[], None] | None = None) -> tuple[int | None, str]:
        return None, f"row {row + 1}: "


def _coerce(path: Path, col: pa.Array, name: str, target: pa.DataType) -> pa.Array:
    """A column as the raw type the normalizer expects (strings become dictionaries)."""
    kind = col.type
    try:
        if pa.types.is_dictionary(target):
            if name == "side" and pa.types.is_integer(kind):
                return col
            if pa.types.is_dictionary(kind):
                kind = kind.value_type
                col = col.cast(pa.dictionary(col.type.index_type, pa.string()))
            else:
                col = pc.dictionary_encode(col.cast(pa.string()))
            if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
                raise pa.ArrowInvalid(f"{kind}")
            return col
        if pa.types.is_int64(target) and pa.types.is_timestamp(kind):
            return col.cast(pa.timestamp("us", kind.tz)).cast(pa.int64())
        if pa.types.is_int64(target) and pa.types.is_floating(kind):
            raise pa.ArrowInvalid("timestamps must be integers")
        return col.cast(target)
    except (pa.ArrowException, ValueError) as exc:
        raise DataError(
            path,
            f"column of type {col.type} cannot be read as {target} ({str(exc).splitlines()[0]})",
            column=name,
            hint="Store times as int64 microseconds, prices and amounts as numbers, sides as text",
        ) from None
