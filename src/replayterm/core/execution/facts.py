"""What explains an order's outcome, recorded by the simulated exchange as it happens.

One ``OrderFacts`` per order (orders are few next to market events): when it was decided and
when it arrived, the queue ahead of it at arrival and each time it changed (a step curve), the
trades printed at its price while it rested, its fills, how it ended and one sentence saying why
(``reason``): "filled: the 2.4 ahead traded out in 3.1 s", "not filled: the price left with 0.8
still ahead", "rejected: price not on the 0.1 tick".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from replayterm.core.data.numfmt import plain

FILLED = "filled"
PARTLY = "partly filled"
NOT_FILLED = "not filled"
REJECTED = "rejected"
OPEN = "open"


def _n(x: float) -> str:
    return plain(float(x))


def _s(us: int) -> str:
    return f"{us / 1e6:.3g} s" if us < 10_000_000 else f"{us / 1e6:,.0f} s"


@dataclass(slots=True)
class OrderFacts:
    order_id: int
    side: int
    kind: str  # limit / market
    tif: str
    price: float | None
    amount: float
    decided_ts: int
    queue_model: str  # "exact (FIFO)" on market-by-order data, else the L2 model's name
    arrival_ts: int | None = None
    ahead_at_arrival: float | None = None
    level_at_arrival: float | None = None
    curve_ts: list[int] = field(default_factory=list)  # queue ahead over time (a step curve)
    curve_ahead: list[float] = field(default_factory=list)
    trades_ts: list[int] = field(default_factory=list)  # trades at our price while resting
    trades_amount: list[float] = field(default_factory=list)
    fills_ts: list[int] = field(default_factory=list)
    fills_amount: list[float] = field(default_factory=list)
    fills_price: list[float] = field(default_factory=list)
    fills_maker: list[bool] = field(default_factory=list)
    end_ts: int | None = None
    ahead_at_end: float | None = None
    outcome: str = OPEN
    reason: str = ""
    how: str = ""  # the exchange's own words for the ending (reject text, cancel reason)
    through: bool = False  # the book moved through our price (the whole level traded)

    @property
    def filled(self) -> float:
        return float(sum(self.fills_amount))

    @property
    def time_in_queue_us(self) -> int | None:
        if self.arrival_ts is None:
            return None
        return (
            self.end_ts
            if self.end_ts is not None
            else self.curve_ts[-1]
            if self.curve_ts
            else self.arrival_ts
        ) - self.arrival_ts

    def queue(self, ts: int, ahead: float) -> None:
        if not self.curve_ahead or self.curve_ahead[-1] != ahead:
            self.curve_ts.append(ts)
            self.curve_ahead.append(ahead)

    def finish(
        self, ts: int, outcome: str, how: str = "", ahead: float | None = None, left: bool = False
    ) -> None:
        self.end_ts = ts
        self.how = how
        if ahead is not None:
            self.ahead_at_end = ahead
            if self.curve_ts:
                self.queue(ts, ahead)
        filled = self.filled
        if outcome == REJECTED:
            self.outcome = REJECTED
        elif filled >= self.amount * (1 - 1e-9):
            self.outcome = FILLED
        elif filled > 0:
            self.outcome = PARTLY
        else:
            self.outcome = outcome
        self.reason = self._sentence(left)

    def _sentence(self, left: bool) -> str:
        outcome = self.outcome
        if outcome == REJECTED:
            return f"rejected: {self.how}"
        waited = self.time_in_queue_us or 0
        if outcome == FILLED:
            if self.fills_maker and not any(self.fills_maker):
                return "filled on arrival: it crossed the spread and took liquidity"
            if self.through:
                return f"filled: the price traded through {_n(self.price or 0)} {_s(waited)} after arrival"
            ahead = self.ahead_at_arrival or 0.0
            if ahead <= 0:
                return f"filled: it was first in the queue and traded in {_s(waited)}"
            return f"filled: the {_n(ahead)} ahead traded out in {_s(waited)}"
        still = self.ahead_at_end if self.ahead_at_end is not None else 0.0
        part = f"{_n(self.filled)} of {_n(self.amount)} traded, then " if outcome == PARTLY else ""
        prefix = "partly filled: " if outcome == PARTLY else "not filled: "
        if outcome == OPEN:
            return f"{prefix}{part}still resting at the end with {_n(still)} ahead"
        if left:
            return f"{prefix}{part}the price left with {_n(still)} still ahead"
        if self.how and "IOC" in self.how:
            at = _n(self.price or 0)
            return f"{prefix}{part}immediate-or-cancel: nothing more at {at} or better on arrival"
        if self.kind == "market":
            return f"{prefix}{part}{self.how}"
        return f"{prefix}{part}cancelled after {_s(waited)} with {_n(still)} still ahead"

    def row(self) -> dict[str, Any]:
        """The flat facts of ``orders.csv``."""
        return {
            "order_id": self.order_id,
            "side": "buy" if self.side > 0 else "sell",
            "type": self.kind,
            "tif": self.tif,
            "price": self.price,
            "amount": self.amount,
            "decided_ts": self.decided_ts,
            "arrival_ts": self.arrival_ts,
            "entry_latency_us": None if self.arrival_ts is None else self.arrival_ts - self.decided_ts,
            "queue_model": self.queue_model,
            "level_at_arrival": self.level_at_arrival,
            "ahead_at_arrival": self.ahead_at_arrival,
            "ahead_at_end": self.ahead_at_end,
            "time_in_queue_us": self.time_in_queue_us,
            "trades_at_price": len(self.trades_ts),
            "traded_at_price": float(sum(self.trades_amount)),
            "fills": len(self.fills_ts),
            "filled": self.filled,
            "end_ts": self.end_ts,
            "outcome": self.outcome,
            "reason": self.reason,
        }

    def life(self) -> dict[str, Any]:
        """Everything, for the inspector and ``explain`` (``orders.jsonl``)."""
        return {
            **self.row(),
            "queue_curve": list(zip(self.curve_ts, self.curve_ahead, strict=True)),
            "trades": list(zip(self.trades_ts, self.trades_amount, strict=True)),
            "fill_list": [
                {"ts": t, "amount": a, "price": p, "liquidity": "maker" if m else "taker"}
                for t, a, p, m in zip(
                    self.fills_ts, self.fills_amount, self.fills_price, self.fills_maker, strict=True
                )
            ],
            "how": self.how,
        }
