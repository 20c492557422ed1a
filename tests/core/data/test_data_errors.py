"""Every kind of bad input gives one DataError naming file, line, column, value and a hint."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from data_helpers import L2_HEADER, L2_ROWS, TRADES_HEADER, Writer

from replayterm.core.data import DataError, csv_source, open_sources


def _error(path: Path) -> DataError:
    with pytest.raises(DataError) as info:
        open_sources(path, use_cache=False)
    err = info.value
    assert str(path) in str(err)
    assert err.hint
    return err


def test_unknown_header(write: Writer) -> None:
    err = _error(write("x.csv", "local_timestamp,update_id", "1,2"))
    assert err.line == 1
    assert "unknown header" in err.explanation
    assert err.value == "local_timestamp,update_id"


def test_missing_column(write: Writer) -> None:
    err = _error(
        write(
            "x.csv", "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price", "ex,A,1,2,true,bid,3"
        )
    )
    assert (err.line, err.column) == (1, "amount")
    assert "missing column" in err.explanation


def test_missing_snapshot_level_column(write: Writer) -> None:
    header = "exchange,symbol,timestamp,local_timestamp,asks[0].price,asks[0].amount,bids[0].price"
    err = _error(write("x.csv", header, "ex,A,1,2,3,4,5"))
    assert (err.line, err.column) == (1, "bids[0].amount")


def test_duplicate_column(write: Writer) -> None:
    err = _error(write("x.csv", L2_HEADER + ",price", *[r + ",1" for r in L2_ROWS]))
    assert (err.line, err.column) == (1, "price")


@pytest.mark.parametrize(
    ("row", "column", "value", "words"),
    [
        ("ex,AAA,1200,2200,false,ask,abc,3.5", "price", "abc", "not a number"),
        ("ex,AAA,1200,2200,false,ask,100,1.2.3", "amount", "1.2.3", "not a number"),
        ("ex,AAA,1200,22:00,false,ask,100,3.5", "local_timestamp", "22:00", "not a whole number"),
        ("ex,AAA,12.5,2200,false,ask,100,3.5", "timestamp", "12.5", "not a whole number"),
        ("ex,AAA,1200,2200,maybe,ask,100,3.5", "is_snapshot", "maybe", "not true or false"),
        ("ex,AAA,1200,2200,false,ask,nan,3.5", "price", "nan", "not a finite number"),
        ("ex,AAA,1200,2200,false,ask,100,inf", "amount", "inf", "not a finite number"),
        ("ex,AAA,1200,2200,false,ask,100,-3.5", "amount", "-3.5", "negative amount"),
        ("ex,AAA,1200,2200,false,buy,100,3.5", "side", "buy", "unknown side"),
        ("ex,AAA,1200,2200,false,ask,,3.5", "price", "", "missing value"),
        ("ex,AAA,1200,,false,ask,100,3.5", "local_timestamp", "", "missing value"),
        ("ex,,1200,2200,false,ask,100,3.5", "symbol", "", "missing value"),
    ],
)
@pytest.mark.parametrize("gz", [False, True])
def test_bad_value(write: Writer, row: str, column: str, value: str, words: str, gz: bool) -> None:
    err = _error(write("x.csv.gz" if gz else "x.csv", L2_HEADER, *L2_ROWS, row, *L2_ROWS, gz=gz))
    assert (err.line, err.column, err.value) == (6, column, value)
    assert words in err.explanation


def test_bad_trade_side(write: Writer) -> None:
    err = _error(write("t.csv", TRADES_HEADER, "ex,A,1,2,7,buy,1,1", "ex,A,1,2,8,bid,1,1"))
    assert (err.line, err.column, err.value) == (3, "side", "bid")
    assert "buy, sell, unknown" in (err.hint or "")


def test_wrong_field_count(write: Writer) -> None:
    err = _error(write("x.csv", L2_HEADER, *L2_ROWS[:2], "ex,AAA,1200,2200,false,ask,100", *L2_ROWS[2:]))
    assert err.line == 4
    assert "expected 8" in err.explanation
    assert "found 7" in err.explanation


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes((L2_HEADER + "\n" + L2_ROWS[0] + "\n").encode() + b"ex,A\xff\xfe,1,2,true,bid,1,1\n")
    err = _error(path)
    assert (err.line, err.column) == (3, "symbol")
    assert "UTF-8" in err.explanation


def test_error_lines_count_blank_lines_and_later_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_source, "BLOCK_SIZE", 512)  # many small batches
    rows = [f"ex,AAA,{t},{t},false,bid,100,1" for t in range(1000, 1400)]
    rows[300] = "ex,AAA,1300,1300,false,bid,100,-1"
    text = L2_HEADER + "\n\n" + "\n".join(rows[:100]) + "\n\n\n" + "\n".join(rows[100:]) + "\n"
    path = tmp_path / "deep.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    err = _error(path)
    assert (err.line, err.column, err.value) == (1 + 1 + 300 + 2 + 1, "amount", "-1")
    rows[300] = "ex,AAA,1300,1300,false,bid,x100,1"
    text = L2_HEADER + "\n\n" + "\n".join(rows[:100]) + "\n\n\n" + "\n".join(rows[100:]) + "\n"
    path.write_bytes(gzip.compress(text.encode()))
    err = _error(path)
    assert (err.line, err.column, err.value) == (1 + 1 + 300 + 2 + 1, "price", "x100")


@pytest.mark.parametrize("cut", [10, 100, -4])
def test_truncated_gzip(write: Writer, cut: int) -> None:
    path = write("x.csv.gz", L2_HEADER, *L2_ROWS * 50, gz=True)
    data = path.read_bytes()
    path.write_bytes(data[:cut])
    err = _error(path)
    assert "gzip" in err.explanation
    assert err.line is None


def test_corrupt_gzip(write: Writer) -> None:
    path = write("x.csv.gz", L2_HEADER, *L2_ROWS * 50, gz=True)
    data = bytearray(path.read_bytes())
    data[30:60] = b"\x00" * 30
    path.write_bytes(bytes(data))
    assert "gzip" in _error(path).explanation


def test_empty_files(tmp_path: Path, write: Writer) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert "empty file" in _error(empty).explanation
    packed = tmp_path / "empty.csv.gz"
    packed.write_bytes(gzip.compress(b""))
    assert "empty file" in _error(packed).explanation
    blank = tmp_path / "blank.csv"
    blank.write_bytes(b"\n\n")
    assert "empty" in _error(blank).explanation
    header_only = write("h.csv", L2_HEADER)
    assert "no data rows" in _error(header_only).explanation


def test_not_found_and_folder(tmp_path: Path) -> None:
    assert "not found" in _error(tmp_path / "nope.csv").explanation
    assert "folder" in _error(tmp_path).explanation


def test_corrupt_parquet(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"a": [1, 2, 3]}), path)
    data = path.read_bytes()
    path.write_bytes(data[:-20])
    assert "Parquet" in _error(path).explanation


def test_parquet_bad_value_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    table = pa.table(
        {
            "exchange": ["ex"] * 3,
            "symbol": ["A"] * 3,
            "timestamp": [1, 2, 3],
            "local_timestamp": [1, 2, 3],
            "id": ["1", "2", "3"],
            "side": ["buy", "sell", "up"],
            "price": [1.0, 2.0, 3.0],
            "amount": [1.0, 1.0, 1.0],
        }
    )
    pq.write_table(table, path)
    err = _error(path)
    assert err.line is None
    assert "row 3" in err.explanation
    assert (err.column, err.value) == ("side", "up")
