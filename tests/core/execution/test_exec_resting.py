"""Resting limit orders: queue, trades at and through our price, crossing, cancels."""

from __future__ import annotations

import pytest
from exec_helpers import ASK, BID, DictBook

from replayterm.core.execution import (
    BUY,
    SELL,
    Ack,
    Cancelled,
    ConstantLatency,
    Fill,
    Liquidity,
    Order,
    OrderStatus,
    Reject,
)
from replayterm.core.execution.rules import FillRules


def test_limit_rests_behind_visible_size_then_fills_on_trades(make_driver) -> None:
    d = make_driver()
    d.start(1)
    oid = d.ex.submit(1, Order.limit(BUY, 2.0, 99.0))
    assert [type(e) for e in d.at(1)] == [Ack]
    assert d.ex.resting_orders()[0].queue_ahead == 5.0
    assert d.trade(2, SELL, 99.0, 4.0) == []  # eats 4 of the 5 ahead
    assert d.ex.resting_orders()[0].queue_ahead == 1.0
    [fill] = d.trade(3, SELL, 99.0, 2.0)  # 1 more ahead, then 1 for us
    assert (fill.price, fill.amount, fill.leaves, fill.liquidity) == (99.0, 1.0, 1.0, Liquidity.MAKER)
    assert d.ex.account.orders[oid].status is OrderStatus.OPEN
    [fill] = d.trade(4, SELL, 99.0, 3.0)
    assert (fill.amount, fill.leaves) == (1.0, 0.0)
    assert d.ex.account.orders[oid].status is OrderStatus.FILLED
    assert d.ex.account.position == 2.0
    assert d.ex.resting_orders() == []


def test_trades_at_other_prices_or_of_the_same_side_do_not_fill(make_driver) -> None:
    d = make_driver()
    d.start(1)
    d.ex.submit(1, Order.limit(SELL, 1.0, 101.0))
    d.at(1)
    assert d.trade(2, SELL, 101.0, 50.0) == []  # a sell taker never hits resting sells
    assert d.trade(3, BUY, 100.5, 50.0) == []  # below our ask
    assert d.ex.resting_orders()[0].queue_ahead == 5.0
    [fill] = d.trade(4, BUY, 101.5, 0.5)  # a buyer printed above our ask: we went first
    assert (fill.side, fill.price, fill.amount) == (SELL, 101.0, 1.0)


def test_trade_through_our_price_fills_fully(make_driver) -> None:
    d = make_driver()
    d.start(1)
    d.ex.submit(1, Order.limit(BUY, 3.0, 99.0))
    d.at(1)
    [fill] = d.trade(2, SELL, 98.5, 0.1)
    assert (fill.price, fill.amount, fill.leaves) == (99.0, 3.0, 0.0)


def test_unknown_trade_side_is_inferred_from_the_book(make_driver) -> None:
    d = make_driver()
    d.start(1)
    d.ex.submit(1, Order.limit(BUY, 1.0, 99.0))
    d.at(1)
    [fill] = d.trade(2, 0, 99.0, 6.0)  # at the best bid: a seller hit the bids
    assert fill.amount == 1.0
    d2 = make_driver()
    d2.start(1)
    d2.ex.submit(1, Order.limit(BUY, 1.0, 99.0))
    d2.at(1)
    assert d2.trade(2, 0, 100.0, 60.0) == []  # inside the spread: cannot tell, ignored
    assert d2.ex.resting_orders()[0].queue_ahead == 5.0


def test_own_orders_at_one_price_share_the_trade_volume(make_driver) -> None:
    d = make_driver()
    d.start(1)
    first = d.ex.submit(1, Order.limit(BUY, 1.0, 99.0))
    second = d.ex.submit(1, Order.limit(BUY, 1.0, 99.0))
    d.at(1)
    events = d.trade(2, SELL, 99.0, 6.0)  # 5 ahead of both, 1 left: only one of ours fills
    assert [(e.order_id, e.amount) for e in events if isinstance(e, Fill)] == [(first, 1.0)]
    assert d.ex.account.orders[second].status is OrderStatus.OPEN


def test_book_moving_through_our_level_fills_fully_with_the_full_rule(make_driver) -> None:
    d = make_driver(rules=FillRules(through="full"))
    d.start(1)
    d.ex.submit(1, Order.limit(BUY, 2.0, 99.0))
    d.at(1)
    # Bids at 99 vanish and the ask comes down to 98.5: the whole 99 queue traded.
    events = d.book_msg(2, [(BID, 99.0, 0.0), (ASK, 98.5, 1.0)])
    [fill] = events
    assert (fill.price, fill.amount, fill.liquidity) == (99.0, 2.0, Liquidity.MAKER)


def test_ask_touching_our_bid_fills(make_driver) -> None:
    d = make_driver()
    d.start(1)
    d.ex.submit(1, Order.limit(BUY, 1.0, 100.0))
    d.at(1)
    [fill] = d.book_msg(2, [(ASK, 100.0, 3.0)])
    assert fill.price == 100.0


def test_sell_side_crossing(make_driver) -> None:
    d = make_driver()
    d.start(1)
    d.ex.submit(1, Order.limit(SELL, 1.0, 101.0))
    d.at(1)
    assert d.book_msg(2, [(BID, 100.0, 1.0)]) == []
    [fill] = d.book_msg(3, [(BID, 101.5, 1.0)])
    assert (fill.side, fill.price) == (SELL, 101.0)


def test_cancel_sent_before_the_order_arrives(make_driver) -> None:
    d = make_driver(latency=ConstantLatency(1_000, 0))
    d.start(1)
    oid = d.ex.submit(1_000, Order.limit(BUY, 1.0, 99.0))
    assert d.ex.cancel(1_100, oid) is True
    assert d.ex.account.orders[oid].cancel_requested
    assert d.at(1_999) == []
    assert [type(e) for e in d.at(2_000)] == [Ack]
    [cancelled] = d.at(2_100)
    assert isinstance(cancelled, Cancelled)
    assert cancelled.remaining == 1.0
    assert d.trade(2_200, SELL, 99.0, 100.0) == []
    assert d.ex.account.orders[oid].status is OrderStatus.CANCELLED
    assert d.ex.account.position == 0.0


def test_cancel_after_arrival_races_with_fills(make_driver) -> None:
    d = make_driver(latency=ConstantLatency(1_000, 0))
    d.start(1)
    oid = d.ex.submit(1_000, Order.limit(BUY, 1.0, 99.0))
    d.at(2_000)
    d.ex.cancel(2_500, oid)  # arrives at 3_500
    [fill] = d.trade(3_000, SELL, 99.0, 10.0)  # the order is still live at the exchange
    assert fill.amount == 1.0
    [reject] = d.at(3_500)
    assert isinstance(reject, Reject)
    assert reject.request == "cancel"
    assert d.ex.account.orders[oid].status is OrderStatus.FILLED  # a cancel reject does not change it
    assert d.ex.cancel(3_600, oid) is False  # the account knows it is finished: nothing sent


def test_cancel_of_a_resting_order_returns_its_leaves(make_driver) -> None:
    d = make_driver()
    d.start(1)
    oid = d.ex.submit(1, Order.limit(BUY, 3.0, 99.0))
    d.at(1)
    d.trade(2, SELL, 99.0, 6.0)  # 1 of 3 filled
    d.ex.cancel(3, oid)
    [cancelled] = d.at(3)
    assert cancelled.remaining == pytest.approx(2.0)
    assert d.ex.account.orders[oid].filled == 1.0
    assert d.ex.account.orders[oid].leaves == 0.0


def test_cancel_all_and_unknown_id(make_driver) -> None:
    d = make_driver()
    d.start(1)
    d.ex.submit(1, Order.limit(BUY, 1.0, 99.0))
    d.ex.submit(1, Order.limit(SELL, 1.0, 101.0))
    d.at(1)
    assert d.ex.cancel_all(2) == 2
    assert d.ex.cancel_all(2) == 0  # already requested
    d.at(2)
    assert d.ex.account.open_orders() == []
    with pytest.raises(ValueError, match="never submitted"):
        d.ex.cancel(3, 999)


def test_identical_inputs_give_identical_responses(make_driver) -> None:
    def run() -> list:
        d = make_driver(latency=ConstantLatency(300, 200))
        d.start(1)
        d.ex.submit(1, Order.limit(BUY, 2.0, 99.0))
        d.ex.submit(1, Order.market(SELL, 1.0))
        d.book_msg(500, [(BID, 99.0, 8.0)])
        d.trade(600, SELL, 99.0, 7.0)
        d.book_msg(700, [(BID, 99.0, 1.0), (ASK, 99.0, 0.5)])
        d.at(10_000)
        return d.delivered

    first, second = run(), run()
    assert first == second
    assert len(first) >= 4


def test_each_order_queues_behind_the_visible_size_at_its_own_price(make_driver) -> None:
    book = DictBook({99.0: 5.0, 98.0: 2.0}, {101.0: 5.0})
    d = make_driver(book)
    d.start(1)
    d.ex.submit(1, Order.limit(BUY, 1.0, 99.0))
    d.ex.submit(1, Order.limit(BUY, 1.0, 98.0))
    d.at(1)
    assert sorted(r.queue_ahead for r in d.ex.resting_orders()) == [2.0, 5.0]
