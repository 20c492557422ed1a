"""Each Tardis type read into the normalized schemas, from CSV, gzip, Parquet and Arrow."""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from data_helpers import DERIV_HEADER, L2_HEADER, L2_ROWS, QUOTES_HEADER, TRADES_HEADER, Writer

from replayterm.core.data import Cancelled, Kind, open_sources
from replayterm.core.data.model import SCHEMAS


def test_incremental_book_l2(write: Writer) -> None:
    (src,) = open_sources(write("a.csv", L2_HEADER, *L2_ROWS), use_cache=False)
    assert src.kind is Kind.BOOK
    assert (src.exchange, src.symbol, src.rows) == ("ex", "AAA", 4)
    assert src.table.schema.equals(SCHEMAS[Kind.BOOK])
    assert src.column("local_ts").tolist() == [2000, 2000, 2100, 2200]
    assert src.column("exch_ts").tolist() == [1000, 1000, 1100, 1200]
    assert src.column("side").tolist() == [1, -1, 1, -1]
    assert src.column("price").tolist() == [99.5, 100.5, 99.5, 100.0]
    assert src.column("amount").tolist() == [1, 2, 0, 3.5]
    assert src.column("is_snapshot").tolist() == [True, True, False, False]
    assert src.rows_before_snapshot == 0
    assert src.cache_state == "off"


def test_rows_before_first_snapshot_are_counted_not_errors(write: Writer) -> None:
    rows = ["ex,AAA,900,1900,false,bid,99,1", "ex,AAA,950,1950,false,ask,101,1", *L2_ROWS]
    (src,) = open_sources(write("a.csv", L2_HEADER, *rows), use_cache=False)
    assert src.rows_before_snapshot == 2
    assert src.rows == 6


def test_trades_numeric_and_guid_ids(write: Writer) -> None:
    path = write(
        "t.csv",
        TRADES_HEADER,
        "bitmex,XBTUSD,10,20,ccc3c1fa-212c-e8b0-1706-9b9c4f3d5ecf,sell,8531.5,2152",
        "bitmex,XBTUSD,11,21,42377944,buy,8532,1",
        "bitmex,XBTUSD,12,22,,unknown,8532,0.5",
    )
    (src,) = open_sources(path, use_cache=False)
    assert src.kind is Kind.TRADES
    assert src.table.schema.equals(SCHEMAS[Kind.TRADES])
    assert src.column("side").tolist() == [-1, 1, 0]
    assert src.table.column("id").to_pylist() == ["ccc3c1fa-212c-e8b0-1706-9b9c4f3d5ecf", "42377944", ""]


def test_liquidations_share_the_trades_header_and_are_told_apart_by_name(write: Writer) -> None:
    row = "binance-futures,BTCUSDT,10,20,abc,sell,60000,0.5"
    (liq,) = open_sources(
        write("binance-futures_liquidations_2024-07-19_BTCUSDT.csv", TRADES_HEADER, row), use_cache=False
    )
    (trd,) = open_sources(write("whatever.csv", TRADES_HEADER, row), use_cache=False)
    assert liq.kind is Kind.LIQUIDATIONS
    assert trd.kind is Kind.TRADES
    assert liq.table.equals(trd.table)


def test_quotes_and_book_ticker(write: Writer) -> None:
    rows = ["ex,AAA,10,20,0.84,9682,9681.92,0.67", "ex,AAA,11,21,,,9681.5,1"]
    (quotes,) = open_sources(write("q.csv", QUOTES_HEADER, *rows), use_cache=False)
    (ticker,) = open_sources(
        write("ex_book_ticker_2024-07-19_AAA.csv", QUOTES_HEADER, *rows), use_cache=False
    )
    assert quotes.kind is Kind.QUOTES
    assert ticker.kind is Kind.BOOK_TICKER
    assert quotes.table.schema.equals(SCHEMAS[Kind.QUOTES])
    assert quotes.column("bid_price").tolist() == [9681.92, 9681.5]
    assert quotes.column("ask_price")[0] == 9682
    assert math.isnan(quotes.column("ask_price")[1])  # a missing side is NaN
    assert math.isnan(quotes.column("ask_amount")[1])


def test_derivative_ticker_with_empty_cells(write: Writer) -> None:
    path = write(
        "d.csv",
        DERIV_HEADER,
        "deribit,BTC-PERPETUAL,10,20,1585728000000000,0.0001,0.0002,100,6421.5,6420,6421",
        "deribit,BTC-PERPETUAL,11,21,,,,,6422,,",
    )
    (src,) = open_sources(path, use_cache=False)
    assert src.kind is Kind.DERIVATIVE_TICKER
    assert src.table.schema.equals(SCHEMAS[Kind.DERIVATIVE_TICKER])
    assert src.table.column("funding_timestamp").to_pylist() == [1585728000000000, None]
    assert src.table.column("funding_rate").to_pylist() == [0.0001, None]
    assert src.table.column("last_price").to_pylist() == [6421.5, 6422]


def _snapshot_header(depth: int) -> str:
    levels = [f"{s}[{i}].{f}" for i in range(depth) for s in ("asks", "bids") for f in ("price", "amount")]
    return "exchange,symbol,timestamp,local_timestamp," + ",".join(levels)


def test_book_snapshot_n_becomes_book_rows(write: Writer) -> None:
    path = write(
        "x_book_snapshot_2_AAA.csv",
        _snapshot_header(2),
        "ex,AAA,10,20,101,1,99,2,102,3,98,4",
        "ex,AAA,11,21,101,5,99,6,,,98,7",  # the second ask level is missing
    )
    (src,) = open_sources(path, use_cache=False)
    assert src.kind is Kind.BOOK_SNAPSHOT
    assert src.snapshot_depth == 2
    assert src.label == "ex AAA book_snapshot_2"
    assert src.table.schema.equals(SCHEMAS[Kind.BOOK])
    assert src.rows == 7
    assert src.column("local_ts").tolist() == [20, 20, 20, 20, 21, 21, 21]
    assert src.column("side").tolist() == [-1, 1, -1, 1, -1, 1, 1]
    assert src.column("price").tolist() == [101, 99, 102, 98, 101, 99, 98]
    assert src.column("amount").tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert all(src.column("is_snapshot"))


def test_header_column_order_does_not_matter(write: Writer) -> None:
    header = "price,amount,side,is_snapshot,local_timestamp,timestamp,symbol,exchange"
    (src,) = open_sources(write("swapped.csv", header, "99.5,1,bid,true,2000,1000,AAA,ex"), use_cache=False)
    assert src.kind is Kind.BOOK
    assert (src.column("price")[0], src.column("side")[0], src.column("local_ts")[0]) == (99.5, 1, 2000)


def test_type_comes_from_the_header_not_the_name(write: Writer) -> None:
    (src,) = open_sources(write("ex_trades_2024-01-01_AAA.csv", L2_HEADER, *L2_ROWS), use_cache=False)
    assert src.kind is Kind.BOOK


def test_bom_crlf_and_blank_lines(tmp_path: Path) -> None:
    text = (
        "\ufeff"
        + L2_HEADER
        + "\r\n"
        + "\r\n".join(L2_ROWS[:2])
        + "\r\n\r\n"
        + "\r\n".join(L2_ROWS[2:])
        + "\r\n"
    )
    path = tmp_path / "crlf.csv"
    path.write_bytes(text.encode())
    (src,) = open_sources(path, use_cache=False)
    assert src.rows == 4
    assert src.column("amount").tolist() == [1, 2, 0, 3.5]


def test_gzip_and_plain_give_the_same_table(write: Writer) -> None:
    (plain,) = open_sources(write("a.csv", L2_HEADER, *L2_ROWS), use_cache=False)
    (packed,) = open_sources(write("a.csv.gz", L2_HEADER, *L2_ROWS, gz=True), use_cache=False)
    assert plain.table.equals(packed.table)


def test_gzip_is_detected_by_content_not_suffix(write: Writer) -> None:
    (src,) = open_sources(write("no_suffix.csv", L2_HEADER, *L2_ROWS, gz=True), use_cache=False)
    assert src.rows == 4


def test_several_symbols_are_split_into_sources(write: Writer) -> None:
    path = write(
        "grouped.csv",
        TRADES_HEADER,
        "ex,BBB,1,10,1,buy,5,1",
        "ex,AAA,2,11,2,sell,6,1",
        "ex,BBB,3,12,3,buy,7,1",
        "ex,AAA,4,13,4,buy,8,1",
        "ex,CCC,5,14,5,buy,9,1",
    )
    sources = open_sources(path, use_cache=False)
    assert [s.symbol for s in sources] == ["BBB", "AAA", "CCC"]
    by_symbol = {s.symbol: s for s in sources}
    assert by_symbol["BBB"].column("price").tolist() == [5, 7]
    assert by_symbol["AAA"].column("local_ts").tolist() == [11, 13]
    assert by_symbol["CCC"].rows == 1
    for s in sources:
        assert s.table.column("symbol").to_pylist() == [s.symbol] * s.rows


def test_backwards_local_timestamp_keeps_file_order_with_a_warning(write: Writer) -> None:
    path = write(
        "back.csv",
        TRADES_HEADER,
        "ex,AAA,1,10,1,buy,1,1",
        "ex,AAA,2,30,2,buy,2,1",
        "ex,AAA,3,20,3,buy,3,1",  # line 4 goes backwards
        "ex,AAA,4,20,4,buy,4,1",
        "ex,AAA,5,40,5,buy,5,1",
    )
    (src,) = open_sources(path, use_cache=False)
    assert src.column("local_ts").tolist() == [10, 30, 30, 30, 40]  # the running maximum
    assert src.column("price").tolist() == [1, 2, 3, 4, 5]  # file order
    assert src.receive_ts().tolist() == [10, 30, 20, 20, 40]
    assert src.unsorted_rows == 2
    assert len(src.warnings) == 1
    assert "line 4" in src.warnings[0]


def test_backwards_line_number_counts_blank_lines(tmp_path: Path) -> None:
    lines = [TRADES_HEADER, "ex,AAA,1,10,1,buy,1,1", "", "ex,AAA,2,30,2,buy,2,1", "", "ex,AAA,3,20,3,buy,3,1"]
    path = tmp_path / "blank.csv"
    path.write_text("\n".join(lines) + "\n")
    (src,) = open_sources(path, use_cache=False)
    assert "line 6" in src.warnings[0]


def test_from_to_filter(write: Writer) -> None:
    rows = [f"ex,AAA,{t},{t},{t},buy,1,1" for t in (1_000_000, 2_000_000, 3_000_000, 4_000_000)]
    path = write("f.csv", TRADES_HEADER, *rows)
    (src,) = open_sources(path, from_ts=2_000_000, to_ts=4_000_000, use_cache=False)
    assert src.column("local_ts").tolist() == [2_000_000, 3_000_000]
    (src,) = open_sources(path, from_ts="1970-01-01T00:00:02.5Z", use_cache=False)
    assert src.column("local_ts").tolist() == [3_000_000, 4_000_000]
    (src,) = open_sources(path, to_ts="1970-01-01 00:00:01", use_cache=False)
    assert src.rows == 0


def test_filter_recounts_rows_before_snapshot(write: Writer) -> None:
    (src,) = open_sources(write("a.csv", L2_HEADER, *L2_ROWS), from_ts=2100, use_cache=False)
    assert src.rows == 2
    assert src.rows_before_snapshot == 2


def _normalized(write: Writer) -> pa.Table:
    (src,) = open_sources(write("a.csv", L2_HEADER, *L2_ROWS), use_cache=False)
    return src.table


@pytest.mark.parametrize("names", ["tardis", "normalized"])
@pytest.mark.parametrize("fmt", ["parquet", "arrow"])
def test_parquet_and_arrow_inputs(write: Writer, tmp_path: Path, names: str, fmt: str) -> None:
    expected = _normalized(write)
    if names == "tardis":
        table = pa.table(
            {
                "exchange": ["ex"] * 4,
                "symbol": ["AAA"] * 4,
                "timestamp": [1000, 1000, 1100, 1200],
                "local_timestamp": [2000, 2000, 2100, 2200],
                "is_snapshot": [True, True, False, False],
                "side": ["bid", "ask", "bid", "ask"],
                "price": [99.5, 100.5, 99.5, 100.0],
                "amount": [1, 2, 0, 3.5],
            }
        )
    else:
        table = expected
    path = tmp_path / f"in.{fmt}"
    if fmt == "parquet":
        pq.write_table(table, path)
    else:
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    (src,) = open_sources(path, use_cache=False)
    assert src.kind is Kind.BOOK
    assert src.table.equals(expected)


def test_progress_and_cancel(write: Writer) -> None:
    paths = [write(f"{i}.csv", L2_HEADER, *L2_ROWS) for i in range(3)]
    seen: list[float] = []
    open_sources(paths, use_cache=False, progress=lambda f, m: seen.append(f))
    assert seen == sorted(seen)
    assert seen[-1] == 1.0
    assert 0.0 <= seen[0] < 0.5
    calls = iter([False, False, True, True, True, True])
    with pytest.raises(Cancelled):
        open_sources(paths, cancel=lambda: next(calls))


def test_arrow_stream_and_compressed_feather(write: Writer, tmp_path: Path) -> None:
    import pyarrow.feather as feather

    expected = _normalized(write)
    stream = tmp_path / "in.arrows"
    with pa.OSFile(str(stream), "wb") as sink, pa.ipc.new_stream(sink, expected.schema) as writer:
        writer.write_table(expected)
    packed = tmp_path / "in.feather"
    feather.write_feather(expected, packed, compression="zstd")
    for path in (stream, packed):
        (src,) = open_sources(path, use_cache=False)
        assert src.table.equals(expected)


def test_book_snapshot_with_several_symbols_and_backwards_time(write: Writer) -> None:
    path = write(
        "x_book_snapshot_1_grouped.csv",
        _snapshot_header(1),
        "ex,B,10,30,101,1,99,2",
        "ex,A,10,20,201,1,,",
        "ex,B,10,25,102,3,98,4",  # line 4: B goes back in time
        "ex,A,10,21,202,5,198,6",
    )
    sources = open_sources(path, use_cache=False)
    b, a = sources
    assert (b.symbol, a.symbol) == ("B", "A")
    assert b.column("local_ts").tolist() == [30, 30, 30, 30]
    assert b.column("price").tolist() == [101, 99, 102, 98]
    assert b.receive_ts().tolist() == [30, 30, 25, 25]
    assert b.unsorted_rows == 1
    assert "line 4" in b.warnings[0]
    assert a.column("local_ts").tolist() == [20, 21, 21]
    assert a.column("price").tolist() == [201, 202, 198]
    assert a.unsorted_rows == 0
    cached = open_sources(path)
    assert [s.table.equals(t.table) for s, t in zip(cached, sources, strict=True)] == [True, True]
