"""Latency: no look-ahead on entry, delayed responses, ordering, models and the data-derived default."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from exec_helpers import ASK, BID

from replayterm.core.execution import (
    BUY,
    SELL,
    Ack,
    ConstantLatency,
    FeedLatency,
    Fill,
    FunctionLatency,
    Order,
    OrderStatus,
    SampledLatency,
    default_latency,
    estimate_feed_latency,
    latency_from_feed,
)
from replayterm.core.execution.latency import clock_warnings, feed_excess

L = 1_000  # entry latency, µs
T = 10_000  # decision time


def _bid_at_100(make_driver, change_at: int) -> list:
    """Decide at T to bid 100 (ask 101). The ask dips to 100 at ``change_at`` and is back at
    101 at ``change_at + 300``."""
    d = make_driver(latency=ConstantLatency(L, 0))
    d.start(T)
    d.ex.submit(T, Order.limit(BUY, 1.0, 100.0))
    d.book_msg(change_at, [(ASK, 100.0, 2.0)])
    d.book_msg(change_at + 300, [(ASK, 100.0, 0.0)])
    d.at(T + 5 * L)
    return [e for e in d.delivered if isinstance(e, Fill)]


def test_order_misses_a_book_change_before_its_arrival(make_driver) -> None:
    assert _bid_at_100(make_driver, T + L // 2) == []


def test_order_meets_a_book_change_after_its_arrival(make_driver) -> None:
    [fill] = _bid_at_100(make_driver, T + L + 1)
    assert (fill.price, fill.exch_ts) == (100.0, T + L + 1)


def test_market_order_walks_the_book_of_its_arrival_time(make_driver) -> None:
    d = make_driver(latency=ConstantLatency(L, 0))
    d.start(T)
    d.ex.submit(T, Order.market(BUY, 1.0))  # decided on a best ask of 101
    d.book_msg(T + L // 2, [(ASK, 101.0, 0.0), (ASK, 103.0, 4.0)])  # 102 is the best now
    d.book_msg(T + L + 10, [(ASK, 101.0, 9.0)])  # too late for our order
    [fill] = [e for e in d.delivered if isinstance(e, Fill)]
    assert (fill.price, fill.exch_ts) == (102.0, T + L)


def test_order_arriving_with_a_trade_at_the_same_time_misses_it(make_driver) -> None:
    d = make_driver(latency=ConstantLatency(L, 0))
    d.start(T)
    d.ex.submit(T, Order.limit(BUY, 1.0, 100.0))
    assert d.trade(T + L, SELL, 99.0, 1.0) == []  # market data first at equal times
    [fill] = [e for e in d.trade(T + L + 1, SELL, 99.0, 1.0) if isinstance(e, Fill)]
    assert fill.price == 100.0


def test_response_latency_delays_the_fill_report(make_driver) -> None:
    d = make_driver(latency=ConstantLatency(0, 300))
    d.start(T)
    oid = d.ex.submit(T, Order.market(SELL, 1.0))
    assert d.at(T) == []
    assert d.at(T + 299) == []
    assert d.ex.account.position == 0.0  # the strategy does not know yet
    assert d.ex.account.orders[oid].status is OrderStatus.PENDING
    events = d.at(T + 300)
    assert [type(e) for e in events] == [Ack, Fill]
    assert (events[1].exch_ts, events[1].local_ts) == (T, T + 300)
    assert d.ex.account.position == -1.0


def test_next_due_points_at_arrivals_and_responses(make_driver) -> None:
    d = make_driver(latency=ConstantLatency(L, 300))
    d.start(T)
    assert d.ex.next_due() is None
    d.ex.submit(T, Order.market(BUY, 1.0))
    assert d.ex.next_due() == T + L
    d.at(T + L)
    assert d.ex.next_due() == T + L + 300
    assert len(d.at(T + L + 300)) == 2
    assert d.ex.next_due() is None


def test_requests_keep_their_order_under_varying_latency(make_driver) -> None:
    # The cancel is sent later but on a faster path; it may not overtake the order.
    d = make_driver(latency=FunctionLatency(lambda ts: 1_000 if ts < T + 50 else 10, lambda ts: 0))
    d.start(T)
    oid = d.ex.submit(T, Order.limit(BUY, 1.0, 99.0))
    d.ex.cancel(T + 100, oid)
    assert d.ex.next_due() == T + 1_000
    d.at(T + 1_000)
    assert d.ex.account.orders[oid].status.value == "cancelled"


def test_book_message_before_a_due_arrival_is_a_driver_error(make_driver) -> None:
    d = make_driver(latency=ConstantLatency(L, 0))
    d.start(T)
    d.ex.submit(T, Order.market(BUY, 1.0))
    d.book.set(BID, 99.0, 1.0)
    with pytest.raises(RuntimeError, match="advance"):
        d.ex.on_book(T + L + 1, d.book)


def test_time_cannot_go_backwards(make_driver) -> None:
    d = make_driver()
    d.start(T)
    with pytest.raises(ValueError, match="before"):
        d.ex.submit(T - 1, Order.market(BUY, 1.0))
    with pytest.raises(ValueError, match="before"):
        d.ex.on_trade(T - 1, BUY, 101.0, 1.0)


def test_constant_and_sampled_latency() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        ConstantLatency(-1, 0)
    m = SampledLatency(np.array([0, 1_000]), np.array([100, 300]), np.array([50, 50]))
    assert (m.entry(-5), m.entry(500), m.entry(2_000)) == (100, 200, 300)
    assert m.response(700) == 50
    with pytest.raises(ValueError, match="non-decreasing"):
        SampledLatency(np.array([5, 1]), np.array([1, 1]), np.array([1, 1]))
    with pytest.raises(ValueError, match=">= 0"):
        SampledLatency(np.array([1]), np.array([-1]), np.array([1]))


def test_function_latency_must_not_be_negative() -> None:
    m = FunctionLatency(lambda ts: -1, lambda ts: 0)
    with pytest.raises(ValueError, match="negative"):
        m.entry(5)


def test_feed_latency_estimate() -> None:
    local = np.array([1_000, 2_000, 3_000, 4_000, 5_000], dtype=np.int64) + 1_700_000_000_000_000
    exch = local - np.array([4_000, 5_000, 6_000, 0, 50_000])  # one row copies local time
    est = estimate_feed_latency(local, exch)
    assert (est.latency_us, est.samples, est.clipped, est.clock_behind) == (5_500, 4, False, False)
    behind = estimate_feed_latency(local, local + 1_500_000)
    assert (behind.latency_us, behind.clipped, behind.clock_behind) == (200_000, True, True)
    assert estimate_feed_latency(local, local).latency_us == 1_000  # nothing usable: the floor
    assert estimate_feed_latency(local, local - 10).latency_us == 1_000  # clipped up
    with pytest.raises(ValueError, match="length"):
        estimate_feed_latency(local, local[:2])


def test_latency_from_feed() -> None:
    assert latency_from_feed(5_000) == ConstantLatency(10_000, 0)
    assert latency_from_feed(5_000, order_us=8_000) == ConstantLatency(13_000, 3_000)
    assert latency_from_feed(5_000, order_us=1_000) == ConstantLatency(6_000, 0)


def test_default_latency_from_real_capture(shared_data: Path) -> None:
    import pyarrow.csv as pacsv

    path = shared_data / "binance-futures" / "binance-futures_trades_2024-07-18_BTCUSDT.csv.gz"
    table = pacsv.read_csv(
        path, convert_options=pacsv.ConvertOptions(include_columns=["timestamp", "local_timestamp"])
    )
    local = table.column("local_timestamp").to_numpy()
    exch = table.column("timestamp").to_numpy()
    est = estimate_feed_latency(local, exch)
    # This receiver's clock ran about 1.5 s behind the exchange: a clock error, bounded by the clip.
    assert est.clock_behind
    assert -2_000_000 < est.median_skew_us < -1_000_000
    assert est.clipped
    # The default never comes from the timestamps: 20 ms each way whatever the data says.
    assert default_latency() == ConstantLatency(40_000, 0)
    [warning] = clock_warnings("binance-futures:BTCUSDT", local, exch)
    assert "behind exchange times" in warning
    assert "not a latency" in warning
    # The feed model cancels the 1.5 s offset: what is left is the feed's delay above its best.
    feed = FeedLatency(local, exch, base=ConstantLatency(40_000, 0))
    assert feed.report.median_skew_us < -1_000_000
    assert 0 <= feed.report.excess_p50_us < 50_000
    assert 40_000 <= feed.entry(int(local[500])) < 1_040_000
    assert feed.response(int(local[500])) == 0


def test_feed_excess_cancels_a_constant_clock_offset() -> None:
    local = np.arange(10_000_000, 110_000_000, 1_000_000, dtype=np.int64)  # a row a second, 100 s
    delay = np.full(local.shape, 5_000, dtype=np.int64)
    delay[50] = 85_000  # one slow moment: 80 ms above the feed's best
    for offset in (0, -1_500_000, 3_000_000):
        exch = local - delay - offset
        t, excess = feed_excess(local, exch, 10_000_000)
        assert np.array_equal(t, local)
        assert excess[50] == 80_000
        assert excess[40] == 0
        assert excess[60] == 0


def test_feed_latency_model_adds_scaled_excess_and_clips() -> None:
    local = np.arange(10_000_000, 110_000_000, 1_000_000, dtype=np.int64)
    delay = np.full(local.shape, 5_000, dtype=np.int64)
    delay[50] = 85_000
    delay[70] = 2_005_000
    base = ConstantLatency(40_000, 0)
    feed = FeedLatency(
        local, local - delay, base=base, scale=2.0, window_us=10_000_000, max_excess_us=1_000_000
    )
    assert feed.entry(int(local[50])) == 40_000 + 160_000
    assert feed.entry(int(local[50]) + 999_999) == 200_000  # as of the last row
    assert feed.entry(int(local[40])) == 40_000
    assert feed.entry(int(local[70])) == 40_000 + 1_000_000  # clipped at the cap
    assert feed.entry(-5) == 40_000  # before the first row: the base
    assert feed.report.clipped == 1
    assert feed.entry_percentiles()["max"] == 1_040_000
