"""Slow second pass over a CSV that the typed fast path refused: find the first bad line.

Reads every column as raw bytes, then checks each column with the same conversions the fast
path uses, bisecting to the first row that fails. Only runs on broken files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from replayterm.core.data.layout import Layout
from replayterm.core.data.lines import nonempty_line_numbers
from replayterm.core.data.normalize import raw_types
from replayterm.core.errors import DataError

if TYPE_CHECKING:
    from replayterm.core.data.csv_source import CsvReader

_TRUE = ["1", "true"]
_FALSE = ["0", "false"]

Check = Callable[[pa.Array], None]


def _text(arr: pa.Array) -> pa.Array:
    return pc.cast(arr, pa.string())


def _as_int(arr: pa.Array) -> None:
    pc.cast(pc.ascii_trim_whitespace(_text(arr)), pa.int64())


def _as_float(arr: pa.Array) -> None:
    pc.cast(pc.ascii_trim_whitespace(_text(arr)), pa.float64())


def _as_bool(arr: pa.Array) -> None:
    words = pc.ascii_lower(pc.ascii_trim_whitespace(_text(arr)))
    if not pc.all(pc.is_in(words, value_set=pa.array(_TRUE + _FALSE))).as_py():
        raise pa.ArrowInvalid("not a boolean")


def _check_for(kind: pa.DataType) -> tuple[Check, str, str]:
    if pa.types.is_int64(kind):
        return _as_int, "not a whole number", "Timestamps are integer microseconds since 1970-01-01 UTC"
    if pa.types.is_floating(kind):
        return _as_float, "not a number", "This column must hold a decimal number"
    if pa.types.is_boolean(kind):
        return _as_bool, "not true or false", "The is_snapshot column must be true or false"
    return _text, "not valid UTF-8 text", "Save the file as UTF-8"


def _fails(check: Check, arr: pa.Array) -> bool:
    try:
        check(arr)
    except (pa.ArrowException, ValueError):
        return True
    return False


def first_failing_row(arr: pa.Array, check: Check) -> int:
    """Index of the first element ``check`` refuses, or -1; about 2n element checks in total."""
    if not _fails(check, arr):
        return -1
    lo, hi = 0, len(arr)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _fails(check, arr.slice(lo, mid - lo)):
            hi = mid
        else:
            lo = mid
    return lo


def diagnose_csv(reader: CsvReader, layout: Layout, exc: BaseException) -> DataError:
    """A DataError naming the first bad line of a CSV the fast path could not parse."""
    path = reader.path
    try:
        data = b"".join(reader.chunks())
    except DataError as err:
        return err
    text_error = _utf8_error(path, layout, data)
    if text_error is not None:
        # Look for an earlier problem in the part before the undecodable line.
        data = data[: data.rfind(b"\n", 0, text_error.offset) + 1]
    found = _find(path, layout, data)
    if text_error is not None:
        found.append(text_error.error)
    if found:
        return min(found, key=lambda e: e.line if e.line is not None else float("inf"))
    return _generic(path, exc)


class _TextError:
    def __init__(self, offset: int, error: DataError) -> None:
        self.offset = offset
        self.error = error


def _utf8_error(path: Path, layout: Layout, data: bytes) -> _TextError | None:
    """The first byte that is not UTF-8, as a DataError on its line and column."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        start = data.rfind(b"\n", 0, err.start) + 1
        end = data.find(b"\n", err.start)
        end = len(data) if end < 0 else end
        field = data.count(b",", start, err.start)
        columns = _file_header(data)
        column = columns[field] if field < len(columns) else None
        name = dict(zip(layout.file_columns, layout.columns, strict=True)).get(column or "", column)
        error = DataError(
            path,
            "not valid UTF-8 text",
            line=data.count(b"\n", 0, err.start) + 1,
            column=name,
            value=data[start:end].decode("utf-8", "replace"),
            hint="Save the file as UTF-8",
        )
        return _TextError(err.start, error)
    return None


def _file_header(data: bytes) -> list[str]:
    first = data.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace").removeprefix("\ufeff")
    return first.split(",")


def _find(path: Path, layout: Layout, data: bytes) -> list[DataError]:
    """Problems in valid UTF-8 CSV text: the first bad field count and each column's first bad value."""
    lines = nonempty_line_numbers([data])
    invalid: list[pacsv.InvalidRow] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        invalid.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(use_threads=False),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(layout.file_columns, pa.binary()),
                include_columns=list(layout.file_columns),
                null_values=[""],
                strings_can_be_null=True,
            ),
        )
    except (pa.ArrowException, ValueError, IndexError) as err:
        return [_generic(path, err)]

    found: list[DataError] = []
    if invalid and invalid[0].number is not None and invalid[0].number <= len(lines):
        first = invalid[0]
        found.append(
            DataError(
                path,
                f"expected {first.expected_columns} comma-separated fields, found {first.actual_columns}",
                line=int(lines[first.number - 1]),
                value=first.text,
                hint="Every line must have the same columns as the header; the line may be cut or merged",
            )
        )
    # Data rows that parsed: their positions among the non-empty lines (header is number 1).
    skipped = np.array([r.number for r in invalid if r.number is not None], np.int64)
    kept = np.setdiff1d(np.arange(2, len(lines) + 1), skipped, assume_unique=True)
    types = raw_types(layout)
    for file_name, name in zip(layout.file_columns, layout.columns, strict=True):
        column = table.column(file_name).combine_chunks()
        check, explanation, hint = _check_for(types[name])
        row = first_failing_row(column, check)
        if 0 <= row < len(kept):
            value = column[row].as_py()
            shown = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            line = int(lines[kept[row] - 1])
            found.append(DataError(path, explanation, line=line, column=name, value=shown, hint=hint))
    return found


def _generic(path: Path, exc: BaseException) -> DataError:
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return DataError(
        path,
        f"the CSV could not be parsed ({message})",
        hint="Check that this is a complete Tardis.dev CSV file",
    )
