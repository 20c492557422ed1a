"""The strategy account: average-cost PnL through flips, fees, cash and order states."""

from __future__ import annotations

import pytest

from replayterm.core.execution import (
    BUY,
    SELL,
    Account,
    Ack,
    Cancelled,
    Fill,
    Liquidity,
    Order,
    OrderStatus,
    Reject,
)


def _fill(acct: Account, side: int, price: float, amount: float, fee: float = 0.0, ts: int = 0) -> None:
    oid = acct.new_order_id()
    acct.record_submit(oid, Order.market(side, amount), ts)
    acct.apply(Fill(ts, ts, oid, side, price, amount, fee, Liquidity.TAKER, 0.0))


def test_client_order_ids_count_up_per_account() -> None:
    a, b = Account("a"), Account("b")
    assert [a.new_order_id(), a.new_order_id(), b.new_order_id()] == [1, 2, 1]


def test_average_cost_through_a_flip() -> None:
    acct = Account(initial_cash=1_000.0)
    _fill(acct, BUY, 100.0, 2.0, fee=0.1)
    _fill(acct, BUY, 102.0, 2.0, fee=0.1)
    assert (acct.position, acct.avg_price) == (4.0, 101.0)
    _fill(acct, SELL, 105.0, 6.0, fee=0.3)  # closes 4 long (+16), opens 2 short at 105
    assert (acct.position, acct.avg_price, acct.realized_pnl) == (-2.0, 105.0, 16.0)
    assert acct.unrealized_pnl(104.0) == pytest.approx(2.0)
    assert acct.equity(104.0) == pytest.approx(1_000.0 + 16.0 + 2.0 - 0.5)
    _fill(acct, BUY, 103.0, 2.0, fee=0.1)  # closes the short: +4
    assert (acct.position, acct.avg_price, acct.realized_pnl) == (0.0, 0.0, 20.0)
    assert acct.fees_paid == pytest.approx(0.6)
    assert acct.net_pnl(1e9) == pytest.approx(19.4)  # flat: the mark does not matter
    assert acct.cash == pytest.approx(1_019.4)
    assert acct.volume == 12.0
    assert acct.turnover == pytest.approx(200 + 204 + 630 + 206)


def test_partial_reduce_keeps_the_entry_price() -> None:
    acct = Account()
    _fill(acct, SELL, 50.0, 3.0)
    _fill(acct, BUY, 45.0, 1.0)
    assert (acct.position, acct.avg_price, acct.realized_pnl) == (-2.0, 50.0, 5.0)
    assert acct.unrealized_pnl(48.0) == pytest.approx(4.0)


def test_float_dust_counts_as_flat() -> None:
    acct = Account()
    _fill(acct, BUY, 10.0, 0.1)
    _fill(acct, BUY, 10.0, 0.2)
    _fill(acct, SELL, 11.0, 0.3)
    assert acct.position == 0.0
    assert acct.realized_pnl == pytest.approx(0.3)


def test_order_states_follow_responses() -> None:
    acct = Account()
    oid = acct.new_order_id()
    state = acct.record_submit(oid, Order.limit(BUY, 2.0, 10.0), 5)
    assert (state.status, state.leaves, state.is_open) == (OrderStatus.PENDING, 2.0, True)
    acct.apply(Ack(6, 6, oid))
    assert state.status is OrderStatus.OPEN
    acct.apply(Fill(7, 7, oid, BUY, 10.0, 0.5, 0.0, Liquidity.MAKER, 1.5))
    assert (state.status, state.filled, state.leaves) == (OrderStatus.OPEN, 0.5, 1.5)
    acct.apply(Reject(8, 8, oid, "late", request="cancel"))
    assert state.status is OrderStatus.OPEN
    acct.apply(Cancelled(9, 9, oid, 1.5, "cancelled on request"))
    assert (state.status, state.leaves, state.reason) == (OrderStatus.CANCELLED, 0.0, "cancelled on request")
    assert acct.open_orders() == []


def test_response_for_an_unknown_order_is_an_error() -> None:
    with pytest.raises(ValueError, match="never sent"):
        Account().apply(Ack(1, 1, 42))


def test_fill_table_columns() -> None:
    acct = Account()
    oid = acct.new_order_id()
    acct.record_submit(oid, Order.limit(SELL, 1.0, 20.0), 0)
    acct.apply(Fill(15, 10, oid, SELL, 20.0, 1.0, -0.01, Liquidity.MAKER, 0.0))
    table = acct.fill_table()
    assert (table.ts.tolist(), table.side.tolist(), table.maker.tolist()) == ([10], [-1], [True])
    assert acct.fill_table("local").ts.tolist() == [15]
    with pytest.raises(ValueError, match="exch"):
        acct.fill_table("wall")
