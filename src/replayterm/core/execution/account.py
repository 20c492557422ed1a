"""One strategy's account: its orders as it knows them, position, PnL and fees.

The account is the strategy's side of the wire. It changes only when a response is delivered
(at ``local_ts``), never when the simulated exchange acts, so a strategy cannot see a fill
before its response latency has passed. Accounting is average-cost (``metrics.pnl``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from replayterm.core.execution.orders import Ack, Cancelled, Event, Fill, Liquidity, Order, Reject
from replayterm.core.metrics.fills import FillTable
from replayterm.core.metrics.pnl import apply_fill

AMOUNT_TOLERANCE = 1e-9  # relative: leaves below this share of the order amount count as filled


class OrderStatus(StrEnum):
    PENDING = "pending"  # sent, no answer yet
    OPEN = "open"  # acknowledged, not finished
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


@dataclass(slots=True)
class OrderState:
    order_id: int
    order: Order
    submit_ts: int
    status: OrderStatus = OrderStatus.PENDING
    filled: float = 0.0
    avg_fill_price: float = 0.0
    cancel_requested: bool = False
    reason: str = ""

    @property
    def is_open(self) -> bool:
        return self.status in (OrderStatus.PENDING, OrderStatus.OPEN)

    @property
    def leaves(self) -> float:
        return max(self.order.amount - self.filled, 0.0) if self.is_open else 0.0


class Account:
    """Position, average entry price, realized PnL (before fees), fees and cash of one strategy.

    ``cash`` starts at ``initial_cash`` and moves by −side·price·amount − fee on every fill, so
    ``equity(mark) = cash + position × mark = initial_cash + realized + unrealized − fees``.
    """

    def __init__(self, name: str = "", initial_cash: float = 0.0) -> None:
        self.name = name
        self.initial_cash = float(initial_cash)
        self.cash = float(initial_cash)
        self.position = 0.0
        self.avg_price = 0.0
        self.realized_pnl = 0.0
        self.fees_paid = 0.0
        self.volume = 0.0
        self.turnover = 0.0
        self.orders: dict[int, OrderState] = {}
        # The orders that may still be open (a subset of ``orders``, in submit order), pruned as
        # they are read: a market maker's account holds ten thousands of finished orders, and
        # every frame and status line asks for the open ones.
        self._maybe_open: dict[int, OrderState] = {}
        self.fills: list[Fill] = []
        self._next_id = 1

    # -- orders ---------------------------------------------------------------------------------
    def new_order_id(self) -> int:
        """Client order ids: 1, 2, 3, ... per account."""
        oid = self._next_id
        self._next_id += 1
        return oid

    def record_submit(self, order_id: int, order: Order, ts: int) -> OrderState:
        state = OrderState(order_id, order, ts)
        self.orders[order_id] = state
        self._maybe_open[order_id] = state
        return state

    def record_cancel_request(self, order_id: int) -> None:
        self.orders[order_id].cancel_requested = True

    def open_orders(self) -> list[OrderState]:
        """Pending and open orders, in submit order (an order never reopens once it ended)."""
        maybe = self._maybe_open
        ended = [oid for oid, s in maybe.items() if not s.is_open]
        for oid in ended:
            del maybe[oid]
        return list(maybe.values())

    # -- responses ------------------------------------------------------------------------------
    def apply(self, event: Event) -> None:
        """Update from one delivered response."""
        state = self.orders.get(event.order_id)
        if state is None:
            raise ValueError(f"response for order {event.order_id}, which this account never sent")
        if isinstance(event, Fill):
            self._apply_fill(state, event)
        elif isinstance(event, Ack):
            if state.status is OrderStatus.PENDING:
                state.status = OrderStatus.OPEN
        elif isinstance(event, Cancelled):
            state.status = OrderStatus.CANCELLED
            state.reason = event.reason
        elif isinstance(event, Reject):
            if event.request == "order":
                state.status = OrderStatus.REJECTED
            state.reason = event.reason

    def _apply_fill(self, state: OrderState, fill: Fill) -> None:
        total = state.filled + fill.amount
        state.avg_fill_price = (state.avg_fill_price * state.filled + fill.price * fill.amount) / total
        state.filled = total
        if fill.leaves <= AMOUNT_TOLERANCE * state.order.amount:
            state.status = OrderStatus.FILLED
        elif state.status is OrderStatus.PENDING:
            state.status = OrderStatus.OPEN
        self.position, self.avg_price, realized = apply_fill(
            self.position, self.avg_price, fill.side, fill.price, fill.amount
        )
        self.realized_pnl += realized
        self.fees_paid += fill.fee
        self.cash -= fill.side * fill.price * fill.amount + fill.fee
        self.volume += fill.amount
        self.turnover += fill.notional
        self.fills.append(fill)

    # -- valuation ------------------------------------------------------------------------------
    def unrealized_pnl(self, mark: float) -> float:
        return 0.0 if self.position == 0.0 else self.position * (mark - self.avg_price)

    def net_pnl(self, mark: float) -> float:
        """Realized + unrealized − fees."""
        return self.realized_pnl + self.unrealized_pnl(mark) - self.fees_paid

    def equity(self, mark: float) -> float:
        return self.cash + (0.0 if self.position == 0.0 else self.position * mark)

    def fill_table(self, time: str = "exch") -> FillTable:
        """Fills as columns for ``metrics``; ``time`` picks ``exch_ts`` (when the fill happened,
        the default) or ``local_ts`` (when the strategy learned of it). Both are in time order:
        the exchange acts in time order and responses keep that order on the way back."""
        if time not in ("exch", "local"):
            raise ValueError(f"time must be 'exch' or 'local', got {time!r}")
        fills = self.fills
        ts = [f.exch_ts for f in fills] if time == "exch" else [f.local_ts for f in fills]
        return FillTable.from_columns(
            ts,
            [f.side for f in fills],
            [f.price for f in fills],
            [f.amount for f in fills],
            [f.fee for f in fills],
            [f.liquidity is Liquidity.MAKER for f in fills],
        )
