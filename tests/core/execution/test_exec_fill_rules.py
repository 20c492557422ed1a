"""The fill rules of ``execution.rules``: each test fails under the behaviour before the rule."""

from __future__ import annotations

from exec_helpers import ASK, BID, DictBook

from replayterm.core.execution import BUY, SELL, Ack, FeeSchedule, Fill, Liquidity, Order, Reject
from replayterm.core.execution.rules import FillRules, on_tick, passive_tick


def test_off_tick_limit_price_is_rejected_like_an_exchange(make_driver) -> None:
    d = make_driver(tick_size=0.5)
    d.start(1)
    oid = d.ex.submit(1, Order.limit(BUY, 1.0, 98.7))
    [reject] = d.at(1)
    assert isinstance(reject, Reject)
    assert "not a multiple of the tick size 0.5" in reject.reason
    assert d.ex.account.orders[oid].order.price == 98.7  # never moved to 99.0 (a worse price)
    assert d.ex.resting_orders() == []


def test_off_tick_passive_rule_rounds_to_the_better_side(make_driver) -> None:
    d = make_driver(tick_size=0.5, rules=FillRules(off_tick="passive"))
    d.start(1)
    d.ex.submit(1, Order.limit(BUY, 1.0, 98.7))
    d.ex.submit(1, Order.limit(SELL, 1.0, 101.2))
    assert [type(e) for e in d.at(1)] == [Ack, Ack]
    assert sorted(r.price for r in d.ex.resting_orders()) == [98.5, 101.5]


def test_on_tick_prices_with_float_dust_are_accepted(make_driver) -> None:
    d = make_driver(tick_size=0.1)
    d.start(1)
    d.ex.submit(1, Order.limit(BUY, 1.0, 0.1 * 990))  # 99.00000000000001
    assert [type(e) for e in d.at(1)] == [Ack]
    assert d.ex.resting_orders()[0].price == 99.0


def test_tick_helpers() -> None:
    assert on_tick(63867.3, 0.1)
    assert not on_tick(63867.35, 0.1)
    assert passive_tick(BUY, 98.7, 0.5) == 98.5
    assert passive_tick(SELL, 98.7, 0.5) == 99.0
    assert passive_tick(SELL, 63867.31, 0.1) == 63867.4


def test_taker_slippage_never_goes_beyond_the_limit_price(make_driver) -> None:
    d = make_driver(fees=FeeSchedule(taker_slippage_bps=50.0))  # 0.5 %: 101 -> 101.505
    d.start(1)
    d.ex.submit(1, Order.limit(BUY, 1.0, 101.2))
    fill = next(e for e in d.at(1) if isinstance(e, Fill))
    assert fill.price == 101.2  # capped at the limit, not 101.505
    d.ex.submit(2, Order.market(BUY, 1.0))  # a market order has no limit: full slippage
    fill = next(e for e in d.at(2) if isinstance(e, Fill))
    assert abs(fill.price - 101.0 * 1.005) < 1e-9


def test_book_through_a_resting_order_fills_only_the_crossing_size(make_driver) -> None:
    d = make_driver()
    d.start(1)
    d.ex.submit(1, Order.limit(BUY, 3.0, 99.0))
    d.at(1)
    # The ask comes down to 98.5 with 1.0 shown: only that could have met our bid.
    [fill] = d.book_msg(2, [(BID, 99.0, 0.0), (ASK, 98.5, 1.0)])
    assert (fill.price, fill.amount, fill.leaves, fill.liquidity) == (99.0, 1.0, 2.0, Liquidity.MAKER)
    # The same level shown again unchanged is not new liquidity.
    assert d.book_msg(3, [(BID, 98.0, 6.0)]) == []
    # More size at a crossing price: that fills too; the rest still waits.
    [fill] = d.book_msg(4, [(ASK, 99.0, 0.5)])
    assert (fill.amount, fill.leaves) == (0.5, 1.5)
    # The 98.5 level changes: what it shows now is fresh liquidity.
    [fill] = d.book_msg(5, [(ASK, 98.5, 4.0)])
    assert (fill.amount, fill.leaves) == (1.5, 0.0)


def test_own_taker_fills_consume_the_levels_they_walked(make_driver) -> None:
    d = make_driver()
    d.start(1)
    d.ex.submit(1, Order.market(BUY, 4.0))
    d.ex.submit(1, Order.market(BUY, 4.0))
    fills = [e for e in d.at(1) if isinstance(e, Fill)]
    # The first takes 4 of the 5 at 101; the second gets the last 1 there, then 3 at 102.
    assert [(f.order_id, f.price, f.amount) for f in fills] == [
        (1, 101.0, 4.0),
        (2, 101.0, 1.0),
        (2, 102.0, 3.0),
    ]
    # Until the replayed book changes 101, it stays consumed for this account...
    d.book_msg(2, [(BID, 99.0, 7.0)])
    d.ex.submit(2, Order.market(BUY, 1.0))
    [fill] = [e for e in d.at(2) if isinstance(e, Fill)]
    assert fill.price == 102.0
    # ...and once it changes, what it shows is available again.
    d.book_msg(3, [(ASK, 101.0, 6.0)])
    d.ex.submit(3, Order.market(BUY, 1.0))
    [fill] = [e for e in d.at(3) if isinstance(e, Fill)]
    assert fill.price == 101.0


def test_own_liquidity_off_sees_the_full_book_again(make_driver) -> None:
    d = make_driver(rules=FillRules(own_liquidity=False))
    d.start(1)
    d.ex.submit(1, Order.market(BUY, 4.0))
    d.ex.submit(1, Order.market(BUY, 4.0))
    fills = [e for e in d.at(1) if isinstance(e, Fill)]
    assert [(f.price, f.amount) for f in fills] == [(101.0, 4.0), (101.0, 4.0)]


def test_trade_printing_beyond_a_resting_order_still_fills_it_fully(make_driver) -> None:
    d = make_driver(book=DictBook({99.0: 50.0}, {101.0: 5.0}))
    d.start(1)
    d.ex.submit(1, Order.limit(BUY, 3.0, 99.0))
    d.at(1)
    [fill] = d.trade(2, SELL, 98.5, 0.1)  # printed below our bid: the whole 99 queue went first
    assert (fill.price, fill.amount, fill.leaves) == (99.0, 3.0, 0.0)
    assert d.book.size_at(BID, 99.0) == 50.0
    assert d.book.size_at(ASK, 101.0) == 5.0


def test_a_trade_equal_to_the_queue_ahead_is_not_a_dust_fill(make_driver) -> None:
    d = make_driver(book=DictBook({99.0: 0.009}, {101.0: 5.0}))
    d.start(1)
    d.ex.submit(1, Order.limit(BUY, 0.001, 99.0))
    d.at(1)
    # 0.009 - 0.002 == 0.007 in decimals; in binary floats 0.007 - (0.009 - 0.002) is 8.7e-19.
    assert d.trade(2, SELL, 99.0, 0.002) == []
    assert d.trade(3, SELL, 99.0, 0.007) == []  # exactly the rest of the queue: no dust "fill"
    assert d.ex.resting_orders()[0].queue_ahead == 0.0
    [fill] = d.trade(4, SELL, 99.0, 0.001)
    assert (fill.amount, fill.leaves) == (0.001, 0.0)


def test_a_fill_that_leaves_only_float_dust_is_the_whole_rest(make_driver) -> None:
    d = make_driver(book=DictBook({99.0: 0.0004}, {101.0: 5.0}))
    d.start(1)
    d.ex.submit(1, Order.limit(BUY, 0.001, 99.0))
    d.at(1)
    assert d.trade(2, SELL, 99.0, 0.0002) == []  # 0.0002 ahead is left
    # 0.0012 - (0.0004 - 0.0002) is 0.0009999999999999998 in binary floats: the whole order fills.
    [fill] = d.trade(3, SELL, 99.0, 0.0012)
    assert (fill.amount, fill.leaves) == (0.001, 0.0)
