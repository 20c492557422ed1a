"""Orders that take liquidity at arrival: market, marketable limit, IOC, post-only, fees, slippage."""

from __future__ import annotations

import math

import pytest
from exec_helpers import ASK, BID, DictBook

from replayterm.core.execution import (
    BUY,
    SELL,
    Ack,
    Cancelled,
    FeeSchedule,
    Fill,
    Liquidity,
    Order,
    OrderStatus,
    Reject,
    TimeInForce,
)


def fills_of(events: list) -> list[tuple[float, float]]:
    return [(e.price, e.amount) for e in events if isinstance(e, Fill)]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"side": 0, "amount": 1.0, "price": 1.0},
        {"side": BUY, "amount": 0.0, "price": 1.0},
        {"side": BUY, "amount": math.nan, "price": 1.0},
        {"side": BUY, "amount": 1.0, "price": None},
        {"side": BUY, "amount": 1.0, "price": -5.0},
    ],
)
def test_malformed_orders_raise(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Order(**kwargs)


def test_numpy_inputs_become_plain_numbers(make_driver) -> None:
    import numpy as np

    order = Order.limit(np.int64(1), np.float32(0.5), np.float64(99.0))
    assert (type(order.side), type(order.amount), type(order.price)) == (int, float, float)
    with pytest.raises(ValueError, match="number"):
        Order.limit(BUY, "lots", 99.0)  # type: ignore[arg-type]
    d = make_driver()
    d.start(1)
    d.ex.submit(np.int64(1), Order.market(BUY, 1.0))
    events = d.at(1)
    assert all(type(e.local_ts) is int and type(e.exch_ts) is int for e in events)


def test_market_order_with_a_price_or_post_only_raises() -> None:
    from replayterm.core.execution import OrderType

    with pytest.raises(ValueError, match="no price"):
        Order(BUY, 1.0, OrderType.MARKET, 100.0)
    with pytest.raises(ValueError, match="post-only"):
        Order(BUY, 1.0, OrderType.MARKET, None, TimeInForce.POST_ONLY)


def test_market_order_walks_the_book(make_driver) -> None:
    d = make_driver()
    d.start(1)
    oid = d.ex.submit(1, Order.market(BUY, 7.0))
    events = d.at(1)
    assert isinstance(events[0], Ack)
    assert fills_of(events) == [(101.0, 5.0), (102.0, 2.0)]
    assert all(e.liquidity is Liquidity.TAKER for e in events if isinstance(e, Fill))
    assert [e.leaves for e in events if isinstance(e, Fill)] == [2.0, 0.0]
    assert d.ex.account.position == 7.0
    assert d.ex.account.orders[oid].status is OrderStatus.FILLED
    assert d.ex.account.orders[oid].avg_fill_price == pytest.approx((5 * 101 + 2 * 102) / 7)


def test_market_order_partial_when_book_too_thin(make_driver) -> None:
    d = make_driver()
    d.start(1)
    oid = d.ex.submit(1, Order.market(SELL, 12.0))
    events = d.at(1)
    assert fills_of(events) == [(99.0, 5.0), (98.0, 5.0)]
    last = events[-1]
    assert isinstance(last, Cancelled)
    assert last.remaining == pytest.approx(2.0)
    assert "too thin" in last.reason
    assert d.ex.account.position == -10.0
    assert d.ex.account.orders[oid].status is OrderStatus.CANCELLED


def test_market_order_on_empty_side_is_cancelled_unfilled(make_driver) -> None:
    d = make_driver(DictBook({99.0: 1.0}, {}))
    d.start(1)
    d.ex.submit(1, Order.market(BUY, 1.0))
    events = d.at(1)
    assert [type(e) for e in events] == [Ack, Cancelled]
    assert events[1].remaining == 1.0
    assert events[1].reason == "no liquidity"


def test_market_walk_beyond_first_chunk_of_levels(make_driver) -> None:
    asks = {100.0 + i: 1.0 for i in range(200)}
    d = make_driver(DictBook({99.0: 1.0}, asks))
    d.start(1)
    d.ex.submit(1, Order.market(BUY, 150.0))
    fills = fills_of(d.at(1))
    assert len(fills) == 150
    assert fills[-1] == (249.0, 1.0)


def test_marketable_limit_takes_up_to_its_price_then_rests(make_driver) -> None:
    d = make_driver()
    d.start(1)
    oid = d.ex.submit(1, Order.limit(BUY, 8.0, 101.0))
    events = d.at(1)
    assert fills_of(events) == [(101.0, 5.0)]
    assert d.ex.account.orders[oid].status is OrderStatus.OPEN
    [resting] = d.ex.resting_orders()
    assert (resting.price, resting.leaves) == (101.0, 3.0)


def test_resting_remainder_is_not_refilled_by_the_liquidity_it_took(make_driver) -> None:
    d = make_driver()
    d.start(1)
    d.ex.submit(1, Order.limit(BUY, 8.0, 101.0))
    d.at(1)
    # The replayed book still shows the 101 ask we took: no second fill from it.
    assert fills_of(d.book_msg(2, [(BID, 98.0, 6.0)])) == []
    # The ask leaves our price, then comes back through it: that is new liquidity meeting us,
    # as much of it as the book shows (the conservative through rule); the rest keeps resting.
    assert fills_of(d.book_msg(3, [(ASK, 101.0, 0.0)])) == []
    events = d.book_msg(4, [(ASK, 101.0, 2.0)])
    assert fills_of(events) == [(101.0, 2.0)]
    assert events[0].liquidity is Liquidity.MAKER
    assert d.ex.resting_orders()[0].leaves == 1.0


def test_ioc_takes_what_it_can_and_cancels_the_rest(make_driver) -> None:
    d = make_driver()
    d.start(1)
    d.ex.submit(1, Order.limit(BUY, 7.0, 101.0, TimeInForce.IOC))
    events = d.at(1)
    assert fills_of(events) == [(101.0, 5.0)]
    assert isinstance(events[-1], Cancelled)
    assert events[-1].remaining == 2.0
    assert events[-1].reason == "IOC remainder"
    assert d.ex.resting_orders() == []


def test_ioc_that_does_not_cross_is_cancelled_whole(make_driver) -> None:
    d = make_driver()
    d.start(1)
    d.ex.submit(1, Order.limit(BUY, 1.0, 100.0, TimeInForce.IOC))
    events = d.at(1)
    assert [type(e) for e in events] == [Ack, Cancelled]
    assert events[1].remaining == 1.0


def test_post_only_that_would_cross_is_rejected(make_driver) -> None:
    d = make_driver()
    d.start(1)
    oid = d.ex.submit(1, Order.limit(BUY, 1.0, 101.0, TimeInForce.POST_ONLY))
    events = d.at(1)
    assert len(events) == 1
    assert isinstance(events[0], Reject)
    assert "post-only" in events[0].reason
    assert d.ex.account.orders[oid].status is OrderStatus.REJECTED
    assert d.ex.resting_orders() == []


def test_post_only_that_does_not_cross_rests(make_driver) -> None:
    d = make_driver()
    d.start(1)
    oid = d.ex.submit(1, Order.limit(SELL, 1.0, 100.0, TimeInForce.POST_ONLY))
    assert [type(e) for e in d.at(1)] == [Ack]
    assert d.ex.account.orders[oid].status is OrderStatus.OPEN
    assert d.ex.resting_orders()[0].price == 100.0


def test_taker_fee_and_slippage(make_driver) -> None:
    d = make_driver(fees=FeeSchedule.from_bps(maker_bps=-1.0, taker_bps=5.0, taker_slippage_bps=10.0))
    d.start(1)
    d.ex.submit(1, Order.market(BUY, 2.0))
    [fill] = [e for e in d.at(1) if isinstance(e, Fill)]
    assert fill.price == pytest.approx(101.0 * 1.001)
    assert fill.fee == pytest.approx(0.0005 * 101.101 * 2.0)
    d.ex.submit(1, Order.market(SELL, 1.0))
    [fill] = [e for e in d.at(1) if isinstance(e, Fill)]
    assert fill.price == pytest.approx(99.0 * 0.999)
    acct = d.ex.account
    assert acct.fees_paid == pytest.approx(0.0005 * 101.101 * 2 + 0.0005 * 98.901)


def test_maker_rebate_has_no_slippage(make_driver) -> None:
    d = make_driver(fees=FeeSchedule.from_bps(maker_bps=-1.0, taker_bps=5.0, taker_slippage_bps=10.0))
    d.start(1)
    d.ex.submit(1, Order.limit(BUY, 2.0, 100.0))
    d.at(1)
    [fill] = d.trade(2, SELL, 100.0, 5.0)
    assert (fill.price, fill.amount, fill.liquidity) == (100.0, 2.0, Liquidity.MAKER)
    assert fill.fee == pytest.approx(-0.0001 * 100.0 * 2.0)
    assert d.ex.account.fees_paid == pytest.approx(-0.02)


def test_fee_schedule_validation() -> None:
    with pytest.raises(ValueError, match="bps"):
        FeeSchedule(maker=2.0)
    with pytest.raises(ValueError, match="slippage"):
        FeeSchedule(taker_slippage_bps=-1.0)
    with pytest.raises(ValueError, match="finite"):
        FeeSchedule(taker=math.inf)


def test_order_before_any_book_is_rejected(make_driver) -> None:
    from replayterm.core.execution import SimExchange

    ex = SimExchange()
    ex.submit(0, Order.market(BUY, 1.0))
    ex.advance(0)
    [event] = ex.poll(0)
    assert isinstance(event, Reject)
    assert "no market data" in event.reason


def test_tick_size_removes_float_dust_only(make_driver) -> None:
    from replayterm.core.execution import snap_to_tick

    assert snap_to_tick(63867.30000000001, 0.1) == 63867.3
    assert snap_to_tick(101.26, 0.5) == 101.5
    assert snap_to_tick(1003.0, 5.0) == 1005.0
    d = make_driver(tick_size=1.0)
    d.start(1)
    oid = d.ex.submit(1, Order.limit(BUY, 1.0, 99.000000000001))
    d.at(1)
    assert d.ex.account.orders[oid].order.price == 99.0
    assert d.ex.resting_orders()[0].queue_ahead == 5.0
