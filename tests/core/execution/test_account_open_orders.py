"""Account.open_orders: the pending and open orders, in submit order, however many have ended."""

from __future__ import annotations

from replayterm.core.execution.account import Account, OrderStatus
from replayterm.core.execution.orders import Order


def test_open_orders_follow_the_status_of_every_order() -> None:
    acct = Account()
    states = [
        acct.record_submit(acct.new_order_id(), Order(side=1, amount=1.0, price=100.0), 0) for _ in range(6)
    ]
    assert [s.order_id for s in acct.open_orders()] == [1, 2, 3, 4, 5, 6]
    states[1].status = OrderStatus.FILLED
    states[4].status = OrderStatus.CANCELLED
    states[0].status = OrderStatus.OPEN
    assert [s.order_id for s in acct.open_orders()] == [1, 3, 4, 6]
    late = acct.record_submit(acct.new_order_id(), Order(side=-1, amount=1.0, price=101.0), 1)
    assert [s.order_id for s in acct.open_orders()] == [1, 3, 4, 6, 7]
    assert late.is_open
    assert all(s.is_open for s in acct.open_orders())
