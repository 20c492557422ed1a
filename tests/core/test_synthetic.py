"""The synthetic market generator: Tardis layout, determinism and a book that behaves like a real one.

The files are read here with pyarrow.csv directly and replayed with a small dict-based reference
book, so the checks do not depend on the project's readers or book engine.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from replayterm.cli import main as cli_main
from replayterm.core.data.synthetic import GeneratedFiles, SyntheticParams, generate_files

BOOK_HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"
TRADES_HEADER = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"
TICKER_HEADER = "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount"
PRICE_TEXT = re.compile(r"^[1-9]\d*(\.\d)?$")  # tick 0.1, no float noise, no trailing zero
AMOUNT_TEXT = re.compile(r"^(0|[1-9]\d*)(\.\d{0,2}[1-9])?$")  # lot 0.001
REPO = Path(__file__).resolve().parents[2]
# Reconnects every 10-20 s, so one minute holds several mid-file snapshots.
FAST_RECONNECT = SyntheticParams(reconnect_min_s=10.0, reconnect_max_s=20.0)


def read_csv(path: Path, text_columns: tuple[str, ...] = ()) -> pa.Table:
    types = dict.fromkeys(text_columns, pa.string())
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types))


def col(table: pa.Table, name: str) -> np.ndarray:
    return table.column(name).to_numpy(zero_copy_only=False)


@dataclass
class Market:
    result: GeneratedFiles
    book: pa.Table
    trades: pa.Table
    ticker: pa.Table


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Market:
    out = tmp_path_factory.mktemp("synthetic")
    result = generate_files(out, minutes=1.0, seed=11, params=FAST_RECONNECT)
    return Market(
        result,
        read_csv(result.book, ("price", "amount", "side")),
        read_csv(result.trades, ("price", "amount", "side")),
        read_csv(result.book_ticker),
    )


def test_file_names_and_headers_are_tardis(market: Market) -> None:
    r = market.result
    day = "2024-01-02"
    assert r.book.name == f"synthetic_incremental_book_L2_{day}_SYNTHUSD.csv.gz"
    assert r.trades.name == f"synthetic_trades_{day}_SYNTHUSD.csv.gz"
    assert r.book_ticker.name == f"synthetic_book_ticker_{day}_SYNTHUSD.csv.gz"
    for path, header in ((r.book, BOOK_HEADER), (r.trades, TRADES_HEADER), (r.book_ticker, TICKER_HEADER)):
        with gzip.open(path, "rt", newline="") as fh:
            assert fh.readline() == header + "\n"
            assert fh.readline().startswith("synthetic,SYNTHUSD,1704153600")
    assert (market.book.num_rows, market.trades.num_rows, market.ticker.num_rows) == (
        r.book_rows,
        r.trade_rows,
        r.book_ticker_rows,
    )
    assert not list(r.book.parent.glob("*.part"))


def test_values_are_printed_like_real_captures(market: Market) -> None:
    for table in (market.book, market.trades):
        prices = col(table, "price")
        assert all(PRICE_TEXT.match(p) for p in prices), "price off the 0.1 grid or with float noise"
        assert all(AMOUNT_TEXT.match(a) for a in col(table, "amount"))
    assert set(col(market.book, "side")) == {"bid", "ask"}
    assert set(col(market.trades, "side")) == {"buy", "sell"}
    assert (col(market.trades, "amount").astype(float) > 0).all()
    amounts = col(market.book, "amount")
    assert (amounts.astype(float)[~col(market.book, "is_snapshot")] == 0).any(), "no deletes"
    assert (amounts.astype(float)[col(market.book, "is_snapshot")] > 0).all()


def test_timestamps(market: Market) -> None:
    for table in (market.book, market.trades, market.ticker):
        ex = col(table, "timestamp")
        lo = col(table, "local_timestamp")
        assert (ex % 1000 == 0).all(), "exchange time should have millisecond precision"
        assert (np.diff(lo) >= 0).all(), "local_timestamp must not go backwards"
        latency = lo - ex
        assert latency.min() >= 0
        assert latency.max() < 2_000_000
    book_lo = col(market.book, "local_timestamp")
    latency = book_lo - col(market.book, "timestamp")
    assert latency.max() > 5 * np.median(latency), "latency has no spikes"
    ids = col(market.trades, "id")
    assert (np.diff(ids) > 0).all(), "trade ids must be unique and increasing"
    span = (book_lo[-1] - book_lo[0]) / 1e6
    assert 55 < span <= 60.5


def _groups(local: np.ndarray) -> list[tuple[int, int]]:
    starts = np.flatnonzero(np.r_[True, np.diff(local) != 0])
    ends = np.r_[starts[1:], len(local)]
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def test_replay_with_reference_book(market: Market) -> None:
    """Never crossed or locked; trades hit the touch and show up in the next message; BBO matches."""
    book, trades, ticker = market.book, market.trades, market.ticker
    b_lo = col(book, "local_timestamp")
    b_snap = col(book, "is_snapshot").tolist()
    b_bid = (col(book, "side") == "bid").tolist()
    b_px = col(book, "price").astype(float).tolist()
    b_amt = col(book, "amount").astype(float).tolist()
    t_lo = col(trades, "local_timestamp")
    t_buy = (col(trades, "side") == "buy").tolist()
    t_px = col(trades, "price").astype(float).tolist()
    t_amt = col(trades, "amount").astype(float).tolist()
    k_lo = col(ticker, "local_timestamp").tolist()
    k_rows = list(
        zip(
            *(col(ticker, c).tolist() for c in ("bid_price", "bid_amount", "ask_price", "ask_amount")),
            strict=True,
        )
    )
    trade_groups = _groups(t_lo)
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    expected: dict[tuple[bool, float], float] = {}  # levels a trade shrank, checked in the next message
    last_ticker = None
    k = 0
    tg = 0
    snapshots = 0
    checked_trades = 0
    previous_snapshot = False
    for start, end in _groups(b_lo):
        local = b_lo[start]
        # Trades received before this message, against the book as it stood.
        while tg < len(trade_groups) and t_lo[trade_groups[tg][0]] < local:
            assert not expected, "a trade was not followed by its book message"
            s, e = trade_groups[tg]
            buy = t_buy[s]
            assert all(t_buy[i] == buy for i in range(s, e)), "one taker order has one side"
            levels = sorted(asks.items()) if buy else sorted(bids.items(), reverse=True)
            taken: dict[float, float] = {}
            for i in range(s, e):
                taken[t_px[i]] = taken.get(t_px[i], 0.0) + t_amt[i]
            for n, (price, amount) in enumerate(taken.items()):
                level_price, level_amount = levels[n]
                assert price == level_price, "trades must walk the book from the touch"
                assert amount <= level_amount + 1e-9
                if n < len(taken) - 1:
                    assert amount == pytest.approx(level_amount), (
                        "a deeper level was hit before the touch emptied"
                    )
                expected[(not buy, price)] = round(level_amount - amount, 3)
            checked_trades += e - s
            tg += 1
        snap = b_snap[start]
        assert all(b_snap[i] == snap for i in range(start, end)), "a message mixes snapshot and update rows"
        if snap:
            snapshots += 1
            if not previous_snapshot:
                bids.clear()
                asks.clear()
        else:
            assert 1 <= end - start <= 20, "update messages hold 1..20 rows"
        previous_snapshot = snap
        for i in range(start, end):
            side = bids if b_bid[i] else asks
            if b_amt[i] == 0:
                side.pop(b_px[i], None)
            else:
                side[b_px[i]] = b_amt[i]
            key = (b_bid[i], b_px[i])
            if key in expected:
                assert round(b_amt[i], 3) == expected.pop(key), "traded level did not shrink by the trade"
        assert not expected, "a traded level is missing from the next book message"
        best_bid, best_ask = max(bids), min(asks)
        assert best_bid < best_ask, f"crossed or locked book at local_timestamp {local}"
        if snap:
            assert 900 <= len(bids) <= 1100
            assert 900 <= len(asks) <= 1100
        bbo = (best_bid, bids[best_bid], best_ask, asks[best_ask])
        if k < len(k_lo) and k_lo[k] == local:
            assert k_rows[k] == pytest.approx(bbo), "book_ticker differs from the book"
            last_ticker = k_rows[k]
            k += 1
        else:
            assert bbo == last_ticker, "the best bid/ask changed without a book_ticker row"
    assert k == len(k_lo), "book_ticker rows without a matching book message"
    assert checked_trades == len(t_lo) > 500
    assert snapshots >= 3, "mid-file re-snapshots are missing"
    assert snapshots == market.result.snapshots
    assert 900 <= len(bids) <= 1100
    assert 900 <= len(asks) <= 1100


def test_group_sizes_vary(market: Market) -> None:
    snap = col(market.book, "is_snapshot")
    lo = col(market.book, "local_timestamp")[~snap]
    _, sizes = np.unique(lo, return_counts=True)
    assert sizes.min() == 1
    assert sizes.max() >= 15
    assert 2.5 < sizes.mean() < 8


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    a = generate_files(tmp_path / "a", minutes=0.2, seed=3)
    b = generate_files(tmp_path / "b", minutes=0.2, seed=3)
    c = generate_files(tmp_path / "c", minutes=0.2, seed=4)
    for pa_, pb, pc in zip(a.paths, b.paths, c.paths, strict=True):
        assert pa_.read_bytes() == pb.read_bytes()
        assert pa_.read_bytes() != pc.read_bytes()


def test_length_by_rows_and_names(tmp_path: Path) -> None:
    r = generate_files(tmp_path, target_book_rows=6000, seed=2, symbol="ETH-PERP", exchange="my-venue")
    assert 6000 <= r.book_rows < 6020
    assert r.book.name == "my-venue_incremental_book_L2_2024-01-02_ETH-PERP.csv.gz"
    table = read_csv(r.book)
    assert table.num_rows == r.book_rows
    assert set(col(table, "exchange")) == {"my-venue"}
    assert set(col(table, "symbol")) == {"ETH-PERP"}


def test_start_and_tick_size(tmp_path: Path) -> None:
    params = SyntheticParams(start_price=2500.0, tick_size="0.01", lot_size="0.01", levels_per_side=200)
    r = generate_files(tmp_path, minutes=0.05, start="2023-05-06T12:00:00Z", params=params)
    assert "_2023-05-06_" in r.book.name
    table = read_csv(r.book, ("price", "amount"))
    assert col(table, "timestamp")[0] == 1683374400000000
    assert all(re.match(r"^\d+(\.\d{1,2})?$", p) for p in col(table, "price"))
    assert all(re.match(r"^\d+(\.\d{1,2})?$", a) for a in col(table, "amount"))
    prices = col(table, "price").astype(float)
    assert 2400 < prices.min() < prices.max() < 2600


@pytest.mark.parametrize(
    "kwargs",
    [
        {"minutes": 1.0, "target_book_rows": 10},
        {"minutes": -1.0},
        {"minutes": float("inf")},
        {"target_book_rows": 0},
        {"symbol": "A,B"},
        {"exchange": ""},
        {"compresslevel": 11},
        {"start": "yesterday"},
    ],
)
def test_bad_arguments(tmp_path: Path, kwargs: dict) -> None:
    with pytest.raises(ValueError):
        generate_files(tmp_path, **kwargs)


def test_params_validation() -> None:
    with pytest.raises(ValueError, match="tick_size"):
        SyntheticParams(tick_size="abc")
    with pytest.raises(ValueError, match="start_price"):
        SyntheticParams(start_price=10.0)


def test_sample_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["sample", str(tmp_path), "--rows", "3000", "--seed", "5", "--symbol", "XYZ"]) == 0
    out = capsys.readouterr().out
    assert "synthetic_incremental_book_L2_2024-01-02_XYZ.csv.gz" in out
    assert "rows" in out
    assert len(list(tmp_path.glob("*.csv.gz"))) == 3
    assert cli_main(["sample", str(tmp_path), "--minutes", "-2"]) == 2


def test_committed_sample_is_reproducible(tmp_path: Path) -> None:
    """data/ holds exactly what `replayterm sample data --minutes 10 --seed 7` writes."""
    committed = sorted((REPO / "data").glob("*.csv.gz"))
    assert len(committed) == 3
    assert sum(p.stat().st_size for p in committed) < 8_000_000
    fresh = generate_files(tmp_path, minutes=10, seed=7)
    for path in fresh.paths:
        with gzip.open(path) as a, gzip.open(REPO / "data" / path.name) as b:
            assert a.read() == b.read(), f"{path.name} differs; run `make sample` and commit data/"
