"""Every book query on a hand-built book (with empty grid slots between levels) and on an empty one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from replayterm.core.book import Book, BookReplayer, BookView

B, A = 1, -1


@pytest.fixture
def book(make_events) -> Book:
    rows = [
        (1, B, 100.0, 1.0, True),
        (1, B, 99.5, 2.0, True),
        (1, B, 99.0, 3.0, True),
        (1, B, 98.0, 9.0, True),
        (1, B, 97.0, 4.0, True),
        (1, A, 100.5, 0.5, True),
        (1, A, 101.0, 1.5, True),
        (1, A, 102.0, 9.0, True),
        (1, A, 103.0, 2.5, True),
        (2, B, 98.0, 0.0, False),
        (2, A, 102.0, 0.0, False),
    ]
    rp = BookReplayer(make_events(rows))
    rp.run_to_end()
    return rp.book


def test_best_levels_and_counts(book: Book) -> None:
    view: BookView = book
    assert view.best_bid() == (100.0, 1.0)
    assert view.best_ask() == (100.5, 0.5)
    assert book.level_count(B) == 4
    assert book.level_count(A) == 3


def test_levels_best_first(book: Book) -> None:
    bids = book.levels(B, 2)
    assert bids.dtype == np.float64
    assert bids.shape == (2, 2)
    assert bids.tolist() == [[100.0, 1.0], [99.5, 2.0]]
    assert book.levels(B, 10).tolist() == [[100.0, 1.0], [99.5, 2.0], [99.0, 3.0], [97.0, 4.0]]
    assert book.levels(A, 10).tolist() == [[100.5, 0.5], [101.0, 1.5], [103.0, 2.5]]
    assert book.levels(A, 0).shape == (0, 2)


def test_size_at(book: Book) -> None:
    assert book.size_at(B, 99.5) == 2.0
    assert book.size_at(A, 103.0) == 2.5
    assert book.size_at(B, 98.0) == 0.0  # deleted level
    assert book.size_at(A, 99.5) == 0.0  # other side's price
    assert book.size_at(B, 99.7) == 0.0  # not in the grid
    assert book.size_at(A, 1e9) == 0.0
    assert book.size_at(B, 1.0) == 0.0


def test_mid_spread_microprice_imbalance(book: Book) -> None:
    assert book.mid() == 100.25
    assert book.spread() == 0.5
    assert book.spread_bps() == pytest.approx(0.5 / 100.25 * 1e4)
    assert book.microprice() == pytest.approx((100.0 * 0.5 + 100.5 * 1.0) / 1.5)
    assert book.imbalance(1) == pytest.approx((1.0 - 0.5) / 1.5)
    assert book.imbalance(2) == pytest.approx((3.0 - 2.0) / 5.0)
    assert book.imbalance(100) == pytest.approx((10.0 - 4.5) / 14.5)


def test_depth_in_levels_and_bps(book: Book) -> None:
    assert book.depth(B, 3) == 6.0
    assert book.depth(A, 10) == 4.5
    # mid 100.25: 30 bps reaches 99.949 (bid 100 only), 80 bps 99.448 (100, 99.5) / 101.052 (100.5, 101)
    assert book.depth_bps(B, 30) == 1.0
    assert book.depth_bps(B, 80) == 3.0
    assert book.depth_bps(A, 80) == 2.0
    assert book.depth_bps(A, 10_000) == 4.5


def test_fill_price(book: Book) -> None:
    assert book.fill_price(A, 1.0) == (pytest.approx(100.75), 1.0)
    avg, filled = book.fill_price(A, 100.0)
    assert filled == 4.5
    assert avg == pytest.approx((0.5 * 100.5 + 1.5 * 101.0 + 2.5 * 103.0) / 4.5)
    assert book.fill_price(B, 0.5) == (100.0, 0.5)
    avg, filled = book.fill_price(B, 0.0)
    assert math.isnan(avg)
    assert filled == 0.0


def test_top_stats_agrees_with_single_queries(book: Book) -> None:
    s = book.top_stats(2)
    assert (s.best_bid, s.bid_amount, s.best_ask, s.ask_amount) == (100.0, 1.0, 100.5, 0.5)
    assert s.mid == book.mid()
    assert s.spread == book.spread()
    assert s.spread_bps == book.spread_bps()
    assert s.microprice == book.microprice()
    assert s.imbalance == pytest.approx(book.imbalance(2))


def test_empty_book(make_events) -> None:
    book = BookReplayer(make_events([(1, B, 1.0, 1.0, True)])).book  # nothing applied yet
    assert book.best_bid() is None
    assert book.best_ask() is None
    assert book.levels(B, 5).shape == (0, 2)
    assert book.levels(A, 5).shape == (0, 2)
    for value in (book.mid(), book.spread(), book.spread_bps(), book.microprice(), book.imbalance(3)):
        assert math.isnan(value)
    assert book.depth(B, 5) == 0.0
    assert book.depth_bps(A, 50) == 0.0
    avg, filled = book.fill_price(A, 1.0)
    assert math.isnan(avg)
    assert filled == 0.0
    assert all(math.isnan(x) for x in book.top_stats())


def test_one_sided_book(make_events) -> None:
    rp = BookReplayer(make_events([(1, B, 10.0, 1.0, True), (1, B, 9.0, 2.0, True)]))
    rp.run_to_end()
    book = rp.book
    assert book.best_ask() is None
    assert math.isnan(book.mid())
    assert book.imbalance(5) == 1.0
    assert book.fill_price(B, 2.0) == (pytest.approx(9.5), 2.0)
