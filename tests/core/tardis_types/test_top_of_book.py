"""quotes / book_ticker as a one-level book, and the BBO check against an L2 book."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from replayterm.core.data import open_sources
from replayterm.core.replay.instruments import build_instruments
from replayterm.core.replay.top_of_book import bbo_check_of
from replayterm.core.session.session import ReplaySession
from replayterm.core.strategy.base import Strategy
from tardis_files import T0, S, book_ticker, l2, quotes, trades


def test_quotes_alone_are_a_one_level_book(tmp_path: Path) -> None:
    [inst] = build_instruments(open_sources([quotes(tmp_path)]))
    assert inst.top_of_book_only
    assert inst.book is not None
    assert any("one level per side" in n for n in inst.notes)
    book = inst.book
    # Four receive times (two quote rows share T0+3s: the last one is the state).
    assert book.n_groups == 4
    book.seek(T0 + 3 * S)
    assert book.book.best_bid() == (100.5, 0.7)
    assert book.book.best_ask() == (101.0, 1.5)
    assert book.book.level_count(1) == 1
    assert book.book.level_count(-1) == 1
    book.seek(T0 + 5 * S)  # each quote replaces the previous one entirely
    assert book.book.level_count(1) == 1
    assert book.book.best_bid() == (101.0, 2.0)


class _Taker(Strategy):
    name = "taker"

    def on_book(self, ctx, book):  # type: ignore[no-untyped-def]
        if ctx.now == T0 + 1 * S:
            ctx.buy(5.0)  # more than the quoted 2.0 at 100.5


class _Maker(Strategy):
    name = "maker"

    def on_book(self, ctx, book):  # type: ignore[no-untyped-def]
        if ctx.now == T0 + 1 * S:
            ctx.buy(1.0, 100.0)  # joins the bid behind the quoted 3.0


def test_taker_fills_only_the_quoted_size(tmp_path: Path) -> None:
    from replayterm.core.execution.latency import ConstantLatency
    from replayterm.core.session.settings import SessionSettings

    session = ReplaySession.open([quotes(tmp_path)], SessionSettings(latency=ConstantLatency(1, 1)))
    h = session.add_strategy(_Taker)
    session.run_to_end()
    f = session.fills(h)
    assert f["price"].tolist() == [100.5]
    assert f["amount"].tolist() == [2.0]  # only what was quoted


def test_resting_order_queues_behind_the_quoted_size(tmp_path: Path) -> None:
    from replayterm.core.execution.latency import ConstantLatency
    from replayterm.core.session.settings import SessionSettings

    session = ReplaySession.open(
        [quotes(tmp_path), trades(tmp_path)], SessionSettings(latency=ConstantLatency(1, 1))
    )
    h = session.add_strategy(_Maker)
    session.advance_to(T0 + 1 * S + 10)  # the order has reached the exchange
    [resting] = session.resting_orders(h)
    assert resting.price == 100.0
    assert resting.queue_ahead == pytest.approx(3.0)  # behind the whole quoted bid size
    session.run_to_end()
    # No sell trade at 100.0 ever came, and a bid never fills on the book moving up: still resting.
    assert len(session.fills(h)) == 0
    assert len(session.resting_orders(h)) == 1


def test_bbo_check_with_l2_and_ticker(tmp_path: Path) -> None:
    [inst] = build_instruments(open_sources([l2(tmp_path), book_ticker(tmp_path)]))
    assert not inst.top_of_book_only
    assert inst.quotes is not None
    check = bbo_check_of(inst)
    assert check is not None
    # L2 messages at 1s, 3s, 5s. Ticker rows at 1s, 2s+5µs, 4s.
    #  1s: book 100.0/100.5 sizes 3/2 vs ticker 100.0/100.5 3/2 -> full match
    #  3s: book 100.0/100.5 sizes 1/2 vs ticker (2s) 100.0/100.5 1/2 -> full match
    #  5s: book 100.0/100.5 vs ticker (4s) 99.5/100.5 -> price mismatch
    assert check.compared == 3
    assert check.price_match == 2
    assert check.full_match == 2
    assert check.mismatch_ts.tolist() == [T0 + 5 * S]
    first = check.first_mismatches[0]
    assert first["book_bid"] == 100.0
    assert first["ticker_bid"] == 99.5
    doc = check.to_json()
    assert "throttled" in str(doc["meaning"])


def test_quotes_real_sample(shared_data: Path) -> None:
    folder = shared_data / "tardis-samples"
    path = folder / "binance-futures_quotes_2020-02-22_BTCUSDT.csv"
    [inst] = build_instruments(open_sources([path]))
    assert inst.top_of_book_only
    assert inst.book is not None
    assert inst.quotes is not None
    q = inst.quotes
    book = inst.book
    book.run_to_end()
    # The book's final state is the file's last quote.
    assert book.book.best_bid() == (float(q.bid_price[-1]), float(q.bid_amount[-1]))
    assert book.book.best_ask() == (float(q.ask_price[-1]), float(q.ask_amount[-1]))
    # After every message the book is one level per side and equals the latest quote.
    check = None
    from replayterm.core.replay.top_of_book import bbo_check

    cps = book.checkpoints
    assert cps is not None
    assert cps.best_amt is not None
    bid, ask = cps.best_prices(book.events.prices)
    check = bbo_check(inst.name, book.events.group_ts, bid, ask, cps.best_amt[:, 0], cps.best_amt[:, 1], q)
    assert check.compared == book.n_groups
    assert check.full_match == check.compared
    assert not math.isnan(check.price_rate)
    assert np.all(np.diff(book.events.group_ts) > 0)


def test_other_real_quotes_sample_opens_as_a_book(shared_data: Path) -> None:
    path = shared_data / "tardis-samples" / "huobi-dm-swap_quotes_BTC-USD.csv"
    [inst] = build_instruments(open_sources([path]))
    assert inst.top_of_book_only
    assert inst.book is not None
    inst.book.run_to_end()
    assert inst.book.book.level_count(1) == 1
    assert inst.book.book.level_count(-1) == 1


def test_bbo_check_on_the_real_capture(shared_data: Path) -> None:
    folder = shared_data / "binance-futures"
    files = sorted(folder.glob("binance-futures_incremental_book_L2_*.csv.gz")) + sorted(
        folder.glob("binance-futures_book_ticker_2024-*.csv.gz")
    )
    [inst] = build_instruments(open_sources(files))
    check = bbo_check_of(inst)
    assert check is not None
    assert check.compared == 9_017
    # Pairing by receive time on a throttled depth stream: nearly all, not all (see BboCheck).
    assert 0.99 < check.price_rate < 1.0
    assert 0.9 < check.full_rate <= check.price_rate
    assert len(check.first_mismatches) == 10
    assert check.mismatch_ts.shape[0] == check.compared - check.price_match
