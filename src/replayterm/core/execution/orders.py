"""What a strategy sends (``Order``) and what comes back (``Ack``, ``Reject``, ``Cancelled``, ``Fill``).

Sides are +1 buy and -1 sell. Amounts are in the instrument's quantity unit (as in the data),
prices in quote currency. Every response carries two times on the replay axis (local µs):
``exch_ts`` when the simulated exchange did it, and ``local_ts`` when the strategy hears of it
(``exch_ts`` + response latency). Nothing here knows about the book or the clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

BUY: int = 1
SELL: int = -1


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(StrEnum):
    """GTC rests until filled or cancelled; IOC takes what it can at arrival and cancels the rest;
    POST_ONLY rests like GTC but is rejected if it would take liquidity at arrival."""

    GTC = "GTC"
    IOC = "IOC"
    POST_ONLY = "POST_ONLY"


class Liquidity(StrEnum):
    MAKER = "maker"
    TAKER = "taker"


@dataclass(frozen=True, slots=True)
class Order:
    """An order request. Build it with ``Order.market`` or ``Order.limit``; ``tag`` is free text.

    Raises ValueError when the request cannot be an order at all (side not ±1, amount not a
    positive finite number, a limit without a positive finite price, a market order with a price).
    Those are strategy bugs, not exchange decisions; exchange decisions come back as events.
    """

    side: int
    amount: float
    order_type: OrderType = OrderType.LIMIT
    price: float | None = None
    tif: TimeInForce = TimeInForce.GTC
    tag: str = ""

    def __post_init__(self) -> None:
        if self.side not in (BUY, SELL):
            raise ValueError(f"order side must be +1 (buy) or -1 (sell), got {self.side!r}")
        # Plain Python numbers from here on, whatever the strategy computed them with (numpy...).
        object.__setattr__(self, "side", int(self.side))
        object.__setattr__(self, "amount", _number(self.amount, "amount"))
        if self.price is not None:
            object.__setattr__(self, "price", _number(self.price, "price"))
        if not (math.isfinite(self.amount) and self.amount > 0):
            raise ValueError(f"order amount must be a positive finite number, got {self.amount!r}")
        if self.order_type is OrderType.LIMIT:
            if self.price is None or not math.isfinite(self.price) or self.price <= 0:
                raise ValueError(f"a limit order needs a positive finite price, got {self.price!r}")
        elif self.price is not None:
            raise ValueError("a market order takes no price")
        if self.order_type is OrderType.MARKET and self.tif is TimeInForce.POST_ONLY:
            raise ValueError("a market order cannot be post-only")

    @classmethod
    def market(cls, side: int, amount: float, tag: str = "") -> Order:
        """Takes liquidity at arrival, walking the visible book; what the book cannot fill is cancelled."""
        return cls(side, amount, OrderType.MARKET, None, TimeInForce.IOC, tag)

    @classmethod
    def limit(
        cls, side: int, amount: float, price: float, tif: TimeInForce = TimeInForce.GTC, tag: str = ""
    ) -> Order:
        return cls(side, amount, OrderType.LIMIT, price, TimeInForce(tif), tag)


def _number(value: object, what: str) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"order {what} must be a number, got {value!r}") from None


@dataclass(frozen=True, slots=True)
class Ack:
    """The exchange accepted the order (it is then filled, resting, or cancelled as IOC)."""

    local_ts: int
    exch_ts: int
    order_id: int


@dataclass(frozen=True, slots=True)
class Reject:
    """The exchange refused a request. ``request`` is "order" or "cancel"."""

    local_ts: int
    exch_ts: int
    order_id: int
    reason: str
    request: str = "order"


@dataclass(frozen=True, slots=True)
class Cancelled:
    """The order is closed with ``remaining`` unfilled: cancelled on request, IOC or market leftovers."""

    local_ts: int
    exch_ts: int
    order_id: int
    remaining: float
    reason: str


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. ``fee`` is in quote currency, positive = paid, negative = rebate.

    ``price`` already includes any taker slippage; ``leaves`` is what stays open after this fill.
    """

    local_ts: int
    exch_ts: int
    order_id: int
    side: int
    price: float
    amount: float
    fee: float
    liquidity: Liquidity
    leaves: float

    @property
    def notional(self) -> float:
        return self.price * self.amount


Event = Ack | Reject | Cancelled | Fill
