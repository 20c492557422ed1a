"""Rebuild the real Binance USD-M capture (both days) and check it against the exchange's own BBO.

Oracle (shared data README): after each L2 message with last update id ``u``, best bid/ask price
and size equal the latest book_ticker row whose ``update_id <= u``, for all 9,017 messages.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pytest

from replayterm.core.book import BookEvents, BookReplayer, build_checkpoints
from replayterm.core.data import open_sources

pytestmark = pytest.mark.realdata
DAYS = ("2024-07-18", "2024-07-19")


def _read(path: Path, columns: list[str], types: dict[str, pa.DataType] | None = None) -> pa.Table:
    opts = pcsv.ConvertOptions(include_columns=columns, column_types=types or {})
    return pcsv.read_csv(path, convert_options=opts)


def _concat(
    folder: Path, kind: str, columns: list[str], types: dict[str, pa.DataType] | None = None
) -> pa.Table:
    parts = [_read(folder / f"binance-futures_{kind}_{day}_BTCUSDT.csv.gz", columns, types) for day in DAYS]
    return pa.concat_tables(parts)


@pytest.fixture
def capture(shared_data: Path) -> dict[str, np.ndarray]:
    return _load(shared_data / "binance-futures")


@functools.cache
def _load(folder: Path) -> dict[str, np.ndarray]:
    """The capture's columns, read once per test session."""
    l2 = _concat(
        folder,
        "incremental_book_L2",
        ["local_timestamp", "timestamp", "is_snapshot", "side", "price", "amount"],
        {"side": pa.string()},
    )
    side_text = l2["side"].to_numpy(zero_copy_only=False)
    assert set(np.unique(side_text)) == {"bid", "ask"}
    ids = _concat(folder, "book_update_ids", ["local_timestamp", "last_update_id"])
    ticker = _concat(
        folder, "book_ticker", ["local_timestamp", "bid_price", "bid_amount", "ask_price", "ask_amount"]
    )
    ticker_ids = _concat(folder, "book_ticker_update_ids", ["local_timestamp", "update_id"])
    out = {
        "local_ts": l2["local_timestamp"].to_numpy(),
        "exch_ts": l2["timestamp"].to_numpy(),
        "side": np.where(side_text == "bid", 1, -1).astype(np.int8),
        "price": l2["price"].to_numpy(),
        "amount": l2["amount"].to_numpy(),
        "is_snapshot": l2["is_snapshot"].to_numpy(zero_copy_only=False),
        "msg_ts": ids["local_timestamp"].to_numpy(),
        "msg_u": ids["last_update_id"].to_numpy(),
        "ticker_ts": ticker["local_timestamp"].to_numpy(),
        "ticker_u": ticker_ids["update_id"].to_numpy(),
        "ticker_check_ts": ticker_ids["local_timestamp"].to_numpy(),
    }
    for name in ("bid_price", "bid_amount", "ask_price", "ask_amount"):
        out[name] = ticker[name].to_numpy()
    return out


def _events(c: dict[str, np.ndarray]) -> BookEvents:
    return BookEvents.from_arrays(
        c["local_ts"], c["exch_ts"], c["side"], c["price"], c["amount"], c["is_snapshot"]
    )


def test_best_bid_and_ask_match_the_exchange_ticker_after_every_message(capture) -> None:
    c = capture
    ev = _events(c)
    assert ev.n_rows == 77_437 + 329_208
    assert ev.n_groups == 9_017
    assert np.array_equal(ev.group_ts, c["msg_ts"])
    assert np.array_equal(c["ticker_ts"], c["ticker_check_ts"])  # the id file is row-aligned
    assert ev.skipped_rows == 0
    assert ev.resnapshot_groups.shape == (1,)

    got = np.empty((ev.n_groups, 4))
    rp = BookReplayer(ev)
    while (g := rp.step()) >= 0:
        (bp, bs), (ap, asz) = rp.book.best_bid(), rp.book.best_ask()
        got[g] = (bp, bs, ap, asz)
    tick = np.searchsorted(c["ticker_u"], c["msg_u"], side="right") - 1
    assert np.all(tick >= 0)
    expected = np.column_stack(
        [c["bid_price"][tick], c["bid_amount"][tick], c["ask_price"][tick], c["ask_amount"][tick]]
    )
    matches = np.all(got == expected, axis=1)
    assert matches.sum() == 9_017, f"first mismatch at message {np.flatnonzero(~matches)[:1]}"
    assert rp.book.crossed_removals == 0


def test_final_book_and_batch_path(capture) -> None:
    ev = _events(capture)
    rp = BookReplayer(ev)
    rp.run_to_end()
    book = rp.book
    assert book.level_count(1) == 5_276
    assert book.level_count(-1) == 5_156
    assert book.best_bid()[0] == 63867.4
    assert book.best_ask()[0] == 63867.5
    assert book.levels(1, 10_000).shape == (5_276, 2)
    stepped = BookReplayer(ev)
    while stepped.step() >= 0:
        pass
    assert stepped.book.same_state(book)


def test_seek_on_real_data_equals_straight_replay(capture) -> None:
    ev = _events(capture)
    cps = build_checkpoints(ev, min_interval_rows=2048)
    assert 0 < cps.nbytes <= 0.10 * ev.source_nbytes
    rp = BookReplayer(ev, cps)
    fresh = BookReplayer(ev)
    rng = np.random.default_rng(3)
    day2 = int(ev.resnapshot_groups[0])
    for target in [*rng.integers(0, ev.n_groups + 1, 12), day2 - 1, day2, day2 + 1, ev.n_groups, 0]:
        rp.seek_group(int(target))
        fresh.reset()
        fresh.apply_through(int(target))
        assert rp.book.same_state(fresh.book), f"seek to {target}"


def test_from_sources_joins_the_days_in_time_order(capture, shared_data: Path) -> None:
    folder = shared_data / "binance-futures"
    day1, day2 = (folder / f"binance-futures_incremental_book_L2_{d}_BTCUSDT.csv.gz" for d in DAYS)
    sources = open_sources([day2, day1])  # given out of order on purpose
    ev = BookEvents.from_sources(sources)
    direct = _events(capture)
    assert np.array_equal(ev.local_ts, direct.local_ts)
    assert np.array_equal(ev.key, direct.key)
    assert np.array_equal(ev.groups, direct.groups)
    assert not ev.full_snapshot_each_message
    trades = open_sources(folder / "binance-futures_trades_2024-07-18_BTCUSDT.csv.gz")
    with pytest.raises(ValueError, match="not a book"):
        BookEvents.from_sources(sources + trades)
