"""Tardis CSV files, plain or gzip: header sniffing and a typed, streaming pyarrow.csv parse.

The fast path never looks at single rows. When pyarrow refuses the file, ``diagnose_csv``
re-reads it slowly to name the exact line, column and value.
"""

from __future__ import annotations

import csv
import gzip
import os
import zlib
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from replayterm.core.data.fast_parse import FastParser, Parsed, ParserCounts
from replayterm.core.data.layout import Layout
from replayterm.core.data.line_blocks import LineTooLongError, line_blocks, too_long_error
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
# The compiled parsers: threads parsing blocks at once, and the decoded text in flight (blocks
# being parsed or waiting to be), which bounds a first open's memory whatever the file size.
# ``REPLAYTERM_PARSE_THREADS`` overrides the thread count (the benchmarks measure the scaling).
PARSE_THREADS = int(os.environ.get("REPLAYTERM_PARSE_THREADS") or 0) or max(2, min(os.cpu_count() or 1, 8))
READ_AHEAD_BYTES = 24 << 20
DECODE_BLOCK = 1 << 20  # ISA-L's unit of work in its thread (its queue holds a few of them)
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
        self.first_line = b""  # the header line as bytes, without its line end
        self.header_names: list[str] = []
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
        # The compiled parsers split lines at \n only: a file whose header ends in a lone \r is
        # left to the general reader from the start.
        self.first_line = first if head[len(first) :].startswith((b"\n", b"\r\n")) else b""
        if not first.strip():
            raise DataError(
                self.path, "the first line is empty; expected the header", line=1, hint=_HEADER_HINT
            )
        try:
            # pyarrow drops a UTF-8 byte-order mark too, so column names match what it reports.
            self.header_names = next(csv.reader([first.decode("utf-8").removeprefix("\ufeff")]))
            return self.header_names
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

    def _open_binary(self) -> tuple[Any, Any]:
        """(the raw file, for ``tell``; the decoded bytes as a stream with ``readinto``)."""
        raw: Any = self.path.open("rb", buffering=0)
        try:
            if not self.gzip:
                return raw, raw
            if USE_ISAL:  # ISA-L decodes in a thread of its own, without the GIL
                return raw, _IGZIP.open(raw, "rb", threads=1, block_size=DECODE_BLOCK)
            return raw, gzip.GzipFile(fileobj=raw, mode="rb")
        except BaseException:
            raw.close()
            raise

    def fast_batches(
        self, layout: Layout, parser: FastParser, counts: ParserCounts | None = None
    ) -> Generator[tuple[Parsed | pa.RecordBatch, float], None, None]:
        """Like ``batches``, through the compiled parser: ``Parsed`` blocks, and raw batches of
        the general reader for each block with a row the parser does not take.

        Decoding runs in ISA-L's thread, this generator splits the text into blocks of lines and
        ``PARSE_THREADS`` threads parse them (the kernels release the GIL); blocks come out in
        file order, at most ``READ_AHEAD_BYTES`` of text in flight."""
        from replayterm.core.data.diagnose import diagnose_csv

        if self.header_only:
            return
        try:
            raw, stream = self._open_binary()
        except READ_ERRORS as exc:
            raise self.stream_error(exc) from None
        counts = counts if counts is not None else ParserCounts()
        depth = max(READ_AHEAD_BYTES // BLOCK_SIZE, 1)
        rows = 0
        pending: deque[tuple[Future[Parsed | list[pa.RecordBatch]], float]] = deque()

        def parse(block: np.ndarray) -> Parsed | list[pa.RecordBatch]:
            parsed = parser.parse(block)
            return parsed if parsed is not None else self._general_block(block.tobytes(), layout)

        def ready() -> Iterator[tuple[Parsed | pa.RecordBatch, float]]:
            nonlocal rows
            future, fraction = pending.popleft()
            done = future.result()
            if isinstance(done, Parsed):
                counts.compiled += 1
                rows += done.file_rows
                yield done, fraction
                return
            counts.general += 1
            for batch in done:
                rows += batch.num_rows
                yield batch, fraction

        pool = ThreadPoolExecutor(PARSE_THREADS, thread_name_prefix="replayterm-parse")
        try:
            for block in line_blocks(stream, BLOCK_SIZE, buffers=depth + 2):
                pending.append((pool.submit(parse, block), raw.tell() / max(self.size, 1)))
                while len(pending) > depth or (pending and pending[0][0].done()):
                    yield from ready()
            while pending:
                yield from ready()
        except LineTooLongError:
            raise too_long_error(self.path, self.where(rows)[0]) from None
        except READ_ERRORS as exc:
            raise diagnose_csv(self, layout, exc) from None
        finally:
            for future, _ in pending:
                future.cancel()
            pool.shutdown(wait=True)
            stream.close()
            raw.close()

    def _general_block(self, data: bytes, layout: Layout) -> list[pa.RecordBatch]:
        """One block of whole lines read by pyarrow as ``batches`` reads the file."""
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=self.header_names, block_size=BLOCK_SIZE),
            convert_options=convert_options(layout),
        )
        names = list(layout.columns)
        return [pa.RecordBatch.from_arrays(b.columns, names=names) for b in table.to_batches()]

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

    def field_at(self, line: int, column: str) -> str | None:
        """The text of ``column`` on file line ``line`` (1-based) as written, for messages; None
        when the line or the column is not there. Reads the file up to that line."""
        try:
            header = self.header()
        except DataError:
            return None
        if column not in header:
            return None
        number, pending = 0, b""
        for chunk in self.chunks(1 << 20):
            pending += chunk
            # Lines end at \n (a lone \r too, but rows of Tardis files never hold one).
            while (end := pending.find(b"\n")) >= 0:
                number += 1
                text, pending = pending[:end], pending[end + 1 :]
                if number == line:
                    return _field(text, header.index(column))
        return _field(pending, header.index(column)) if number + 1 == line else None


def _field(line: bytes, index: int) -> str | None:
    try:
        fields = next(csv.reader([line.decode("utf-8", "replace").rstrip("\r")]))
    except (csv.Error, StopIteration):
        return None
    return fields[index] if index < len(fields) else None


def _checked(chunks: Iterator[bytes], check: Callable[[], None]) -> Iterator[bytes]:
    for chunk in chunks:
        check()
        yield chunk


_HEADER_HINT = "a Tardis.dev CSV starts with a header such as exchange,symbol,timestamp,local_timestamp,..."
