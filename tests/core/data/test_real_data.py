"""Every Tardis-format file of the shared real captures opens, with the documented counts and spans."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from replayterm.cli import main
from replayterm.core.data import DataError, Kind, open_sources

pytestmark = pytest.mark.realdata

BINANCE = "binance-futures"
DAYS = ("2024-07-18", "2024-07-19")


def _convert_report(shared_data: Path) -> dict[str, dict]:
    outputs: dict[str, dict] = {}
    for report in sorted((shared_data / BINANCE).glob("*.convert.json")):
        for item in json.loads(report.read_text())["outputs"]:
            outputs[item["file"]] = item
    return outputs


def _tardis_files(shared_data: Path) -> list[Path]:
    binance = [
        p
        for pattern in ("*incremental_book_L2*", "*trades*", "*book_ticker_2024*")
        for p in sorted((shared_data / BINANCE).glob(pattern))
    ]
    return binance + sorted((shared_data / "tardis-samples").glob("*.csv"))


def test_info_matches_the_conversion_report(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = _convert_report(shared_data)
    files = _tardis_files(shared_data)[:6]
    assert len(files) == 6
    assert main(["info", "--json", *map(str, files)]) == 0
    items = json.loads(capsys.readouterr().out)
    reports = [item for item in items if "sources" in item]
    assert len(reports) == 6
    for report in reports:
        (source,) = report["sources"]
        want = expected[Path(report["file"]).name]
        assert source["rows"] == want["rows"]
        assert source["local_time"]["first"] == want["first_local_timestamp"]
        assert source["local_time"]["last"] == want["last_local_timestamp"]
        assert source["exchange_time"]["first"] == want["first_timestamp"]
        assert source["exchange_time"]["last"] == want["last_timestamp"]
        assert source["local_time"]["span_s"] == pytest.approx(want["span_s"], abs=1e-3)
        assert source["unsorted_rows"] == 0
        assert (source["exchange"], source["symbol"]) == (BINANCE, "BTCUSDT")


def test_l2_row_counts_and_snapshots(shared_data: Path) -> None:
    counts = {}
    for day, rows in zip(DAYS, (77_437, 329_208), strict=True):
        (src,) = open_sources(shared_data / BINANCE / f"{BINANCE}_incremental_book_L2_{day}_BTCUSDT.csv.gz")
        assert src.kind is Kind.BOOK
        assert src.rows == rows
        assert src.rows_before_snapshot == 0
        assert bool(src.column("is_snapshot")[0])
        counts[day] = src.rows
        # The receiver's clock was behind the exchange on every row.
        assert bool(np.all(src.column("local_ts") < src.column("exch_ts")))
    assert counts == {"2024-07-18": 77_437, "2024-07-19": 329_208}


def test_trades_and_book_ticker_counts(shared_data: Path) -> None:
    for day, trades, tickers in zip(DAYS, (974, 9_727), (7_113, 45_147), strict=True):
        (t,) = open_sources(shared_data / BINANCE / f"{BINANCE}_trades_{day}_BTCUSDT.csv.gz")
        (b,) = open_sources(shared_data / BINANCE / f"{BINANCE}_book_ticker_{day}_BTCUSDT.csv.gz")
        assert (t.kind, t.rows) == (Kind.TRADES, trades)
        assert (b.kind, b.rows) == (Kind.BOOK_TICKER, tickers)
        assert set(np.unique(t.column("side")).tolist()) <= {-1, 1}


def test_tardis_samples(shared_data: Path) -> None:
    folder = shared_data / "tardis-samples"
    expected = {
        "deribit_incremental_book_L2_BTC-PERPETUAL.csv": (Kind.BOOK, 15, None),
        "binance-futures_book_snapshot_25_BTCUSDT.csv": (Kind.BOOK_SNAPSHOT, 10, 25),
        "binance-futures_book_snapshot_5_BTCUSDT.csv": (Kind.BOOK_SNAPSHOT, 10, 5),
        "bitmex_trades_XBTUSD.csv": (Kind.TRADES, 10, None),
        "huobi-dm-swap_quotes_BTC-USD.csv": (Kind.QUOTES, 10, None),
        "binance-futures_quotes_2020-02-22_BTCUSDT.csv": (Kind.QUOTES, 9_999, None),
        "binance-futures_trades_2020-02-22_BTCUSDT.csv": (Kind.TRADES, 9_999, None),
    }
    assert sorted(p.name for p in folder.glob("*.csv")) == sorted(expected)
    for name, (kind, file_rows, depth) in expected.items():
        (src,) = open_sources(folder / name)
        assert (src.kind, src.snapshot_depth) == (kind, depth)
        if kind is Kind.BOOK_SNAPSHOT:
            assert depth is not None
            assert src.rows == file_rows * 2 * depth  # these samples have every level filled
            assert len(np.unique(src.column("local_ts"))) == file_rows
        else:
            assert src.rows == file_rows
    (deribit,) = open_sources(folder / "deribit_incremental_book_L2_BTC-PERPETUAL.csv")
    assert all(deribit.column("is_snapshot"))
    (bitmex,) = open_sources(folder / "bitmex_trades_XBTUSD.csv")
    assert bitmex.table.column("id")[0].as_py() == "ccc3c1fa-212c-e8b0-1706-9b9c4f3d5ecf"
    (quotes,) = open_sources(folder / "binance-futures_quotes_2020-02-22_BTCUSDT.csv")
    span = quotes.time_span()
    assert span is not None
    assert span[0] // 1_000_000 == 1582329603  # 2020-02-22 00:00:03
    (trades,) = open_sources(folder / "binance-futures_trades_2020-02-22_BTCUSDT.csv")
    ids = trades.table.column("id").to_numpy(zero_copy_only=False).astype(np.int64)
    assert bool(np.all(np.diff(ids) == 1))  # numeric ids without gaps


@pytest.mark.parametrize("what", ["book_update_ids", "book_ticker_update_ids"])
def test_non_tardis_helper_files_are_unknown_headers(shared_data: Path, what: str) -> None:
    for day in DAYS:
        path = shared_data / BINANCE / f"{BINANCE}_{what}_{day}_BTCUSDT.csv.gz"
        with pytest.raises(DataError, match="unknown header") as info:
            open_sources(path)
        assert info.value.line == 1
        assert str(path) in str(info.value)


def test_cached_real_l2_equals_uncached(shared_data: Path) -> None:
    path = shared_data / BINANCE / f"{BINANCE}_incremental_book_L2_2024-07-18_BTCUSDT.csv.gz"
    (off,) = open_sources(path, use_cache=False)
    (built,) = open_sources(path)
    (hit,) = open_sources(path, from_ts="2024-07-18T23:58:00Z", to_ts="2024-07-18T23:59:00Z")
    assert built.cache_state == "built"
    assert hit.cache_state == "hit"
    assert built.table.equals(off.table)
    ts = off.column("local_ts")
    inside = (ts >= 1721347080_000000) & (ts < 1721347140_000000)
    assert hit.rows == int(inside.sum()) > 0
    assert hit.table.equals(off.table.filter(inside))


def test_info_reports_the_two_days_as_one_set(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted((shared_data / BINANCE).glob("*incremental_book_L2*.csv.gz"), reverse=True)
    assert main(["info", "--json", *map(str, files)]) == 0
    (book_set,) = [item for item in json.loads(capsys.readouterr().out) if "set" in item]
    assert book_set["set"] == f"{BINANCE} BTCUSDT incremental_book_L2"
    assert book_set["days"] == list(DAYS)
    assert book_set["rows"] == 77_437 + 329_208
    assert [Path(f).name for f in book_set["files"]] == [p.name for p in reversed(files)]
    (gap,) = book_set["gaps"]  # the capture restarted at midnight: a 1.08 s hole
    assert gap["seconds"] == pytest.approx(1.079, abs=0.001)
