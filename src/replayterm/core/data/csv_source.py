"""Tardis CSV files, plain or gzip: header sniffing and a typed, streaming pyarrow.csv parse.

The fast path never looks at single rows. When pyarrow refuses the file, ``diagnose_csv``
re-reads it slowly to name the exact line, column and value.
"""

from __future__ import annotations

import csv
import zlib
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.csv as pacsv

from replayterm.core.data.layout import Layout
from replayterm.core.data.lines import line_of_row
from replayterm.core.data.normalize import raw_types
from replayterm.core.errors import DataError


def _isal() -> tuple[Any, tuple[type[BaseException], ...]]:
    """ISA-L's gzip decoder: a third of zlib's CPU time, and it runs in its own thread. Without a
    wheel for the platform the reader falls back to zlib (through pyarrow)."""
    try:
        from isal import igzip_threaded, isal_zlib
    except ImportError:  # pragma: no cover
        return None, ()
    return igzip_threaded, (cast(type[BaseException], isal_zlib.error),)


_IGZIP, _ISAL_ERRORS = _isal()

GZIP_MAGIC = b"\x1f\x8b"
# The streaming parser reads ahead a few dozen blocks, so the block size sets the memory of a first
# open (peak RssAnon on a 10M-row L2 .csv.gz: 8 MB -> 376 MB, 4 MB -> 231 MB, 2 MB -> 145 MB) while
# CPU time barely changes from 8 MB down to 4 MB (3.2 s for those 10M rows).
BLOCK_SIZE = 4 << 20
MAX_HEADER = 16 << 20

# Everything pyarrow, zlib or the OS may raise while reading; all of it becomes a DataError.
READ_ERRORS = (
    pa.ArrowException,
    OSError,
    ValueError,
    EOFError,
    zlib.error,
    UnicodeError,
    IndexError,
    *_ISAL_ERRORS,
)
# Measured on a generated 10M-row L2 .csv.gz (CPU seconds, the machine shared with other jobs):
# decompressing alone 0.83 (zlib) vs 0.33 (ISA-L), parsing the stream 2.95 vs 2.05.
USE_ISAL = _IGZIP is not None


def convert_options(layout: Layout, types: dict[str, pa.DataType] | None = None) -> pacsv.ConvertOptions:
    by_tardis = types or raw_types(layout)
    return pacsv.ConvertOptions(
        column_types={f: by_tardis[t] for f, t in zip(layout.file_columns, layout.columns, strict=True)},
        include_columns=list(layout.file_columns),
        null_values=[""],
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )


class CsvReader:
    """One CSV file: knows its compression, header, batches and how to find a row's line."""

    file_format = "csv"

    def __init__(self, path: Path, size: int, magic: bytes) -> None:
        self.path = path
        self.size = size
        self.gzip = magic.startswith(GZIP_MAGIC)
        self.header_only = False
        if self.gzip:
            self.file_format = "csv.gz"

    def _open(self) -> tuple[Any, pa.NativeFile]:
        """(the raw file, for ``tell``; the decompressed stream)."""
        if self.gzip and USE_ISAL:
            raw: Any = self.path.open("rb")
            try:
                return raw, pa.PythonFile(_IGZIP.open(raw, "rb", threads=1), mode="r")
            except BaseException:
                raw.close()
                raise
        native = pa.OSFile(str(self.path), "rb")
        return native, (pa.CompressedInputStream(native, "gzip") if self.gzip else native)

    def stream_error(self, exc: BaseException) -> DataError:
        if self.gzip:
            return DataError(
                self.path,
                f"the gzip data is truncated or corrupt ({exc})",
                hint="Download or copy the file again; 'gzip -t FILE' checks a gzip file",
            )
        return DataError(
            self.path, f"the file could not be read ({exc})", hint="Check the file and its permissions"
        )

    def chunks(self, size: int = 4 << 20) -> Iterator[bytes]:
        """The decompressed bytes, in pieces."""
        try:
            raw, stream = self._open()
        except READ_ERRORS as exc:
            raise self.stream_error(exc) from None
        try:
            while True:
                try:
                    data = stream.read(size)
                except READ_ERRORS as exc:
                    raise self.stream_error(exc) from None
                if not data:
                    return
                yield data
        finally:
            stream.close()
            raw.close()

    def header(self) -> list[str]:
        head = b""
        for chunk in self.chunks(1 << 16):
            head += chunk
            if b"\n" in head or len(head) > MAX_HEADER:
                break
        else:
            # The whole file is in ``head``; pyarrow refuses a lone header without a line end.
            self.header_only = not any(line.strip() for line in head.replace(b"\r", b"\n").split(b"\n")[1:])
        if not head.strip():
            raise DataError(
                self.path, "empty file", hint="The file has no header and no data; download it again"
            )
        # The parser ends a line at \n, \r\n or a lone \r; so does this.
        first = head.split(b"\n", 1)[0].split(b"\r", 1)[0]
        if not first.strip():
            raise DataError(
                self.path, "the first line is empty; expected the header", line=1, hint=_HEADER_HINT
            )
        try:
            # pyarrow drops a UTF-8 byte-order mark too, so column names match what it reports.
            return next(csv.reader([first.decode("utf-8").removeprefix("\ufeff")]))
        except (UnicodeDecodeError, csv.Error):
            raise DataError(
                self.path,
                "unknown header: the first line is not a list of column names",
                line=1,
                value=first[:60].decode("utf-8", "replace"),
                hint=_HEADER_HINT,
            ) from None

    def batches(self, layout: Layout) -> Generator[tuple[pa.RecordBatch, float], None, None]:
        """Raw batches with Tardis column names, each with the fraction of the file read so far."""
        from replayterm.core.data.diagnose import diagnose_csv

        if self.header_only:
            return
        raw, stream = self._open()
        names = list(layout.columns)
        try:
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(block_size=BLOCK_SIZE),
                convert_options=convert_options(layout),
            )
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    return
                yield pa.RecordBatch.from_arrays(batch.columns, names=names), raw.tell() / max(self.size, 1)
        except READ_ERRORS as exc:
            raise diagnose_csv(self, layout, exc) from None
        finally:
            stream.close()
            raw.close()

    def where(self, row: int, check: Callable[[], None] | None = None) -> tuple[int | None, str]:
        """The file line of 0-based data row ``row`` (None if it cannot be found). ``check`` is
        called between chunks (it may raise to cancel)."""
        chunks = self.chunks()
        if check is not None:
            chunks = _checked(chunks, check)
        try:
            return line_of_row(chunks, row), ""
        except DataError:
            return None, f"data row {row + 1}: "


def _checked(chunks: Iterator[bytes], check: Callable[[], None]) -> Iterator[bytes]:
    for chunk in chunks:
        check()
        yield chunk


_HEADER_HINT = "a Tardis.dev CSV starts with a header such as exchange,symbol,timestamp,local_timestamp,..."
