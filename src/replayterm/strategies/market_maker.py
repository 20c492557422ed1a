"""A two-sided market maker with inventory skew and a position limit, quoting with limit orders.

Every ``requote_ms`` of simulated time (a timer) it computes a reservation price from the mid,
moved against its inventory:

    reservation = mid - skew × (position / max_position) × tick

and wants a bid and an ask ``spread_ticks / 2`` ticks either side of it (never better than the
current best prices: it only adds liquidity, with post-only orders). A quote at the wrong price
is cancelled; its replacement goes out once the cancel is confirmed, so a side never has two
orders live. No bid is shown once a fill would take the position above ``max_position`` (and no
ask below ``-max_position``). Fills depend on the queue model: the order joins the back of the
queue at its price and fills when trades have eaten through what was ahead of it.

Signals: "max_long" / "max_short" when the position reaches the limit (strength = position).
Plots: "reservation" and "inventory" (position / max_position), once per requote.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from replayterm.core.strategy import BUY, SELL, Strategy, StrategyContext

EPS = 1e-9


@dataclass
class MarketMakerParams:
    spread_ticks: int = 2  # distance between our bid and ask, in ticks
    size: float = 0.01  # size of each quote
    max_position: float = 0.05  # no quote that could take |position| beyond this
    skew: float = 2.0  # ticks the quotes move per full max_position of inventory
    requote_ms: int = 250  # simulated time between two looks at the quotes


class MarketMaker(Strategy):
    name = "market_maker"
    Params = MarketMakerParams

    def __init__(self, params: MarketMakerParams | None = None) -> None:
        super().__init__(params)
        p = self.params
        if p.spread_ticks < 1 or p.size <= 0 or p.max_position < p.size or p.requote_ms <= 0:
            raise ValueError("need spread_ticks >= 1, size > 0, max_position >= size and requote_ms > 0")
        self.quotes: dict[int, int] = {}  # side -> id of our order on that side
        self.at_limit = 0  # +1 / -1 while the position is at the long / short limit

    def on_start(self, ctx: StrategyContext) -> None:
        ctx.set_timer(self.params.requote_ms * 1000)

    def on_timer(self, ctx: StrategyContext) -> None:
        ctx.set_timer(self.params.requote_ms * 1000)
        book = ctx.book
        bid = book.best_bid() if book is not None else None
        ask = book.best_ask() if book is not None else None
        tick = ctx.tick_size
        if bid is None or ask is None or tick <= 0:
            return
        p = self.params
        position = ctx.position
        inventory = position / p.max_position
        reservation = 0.5 * (bid[0] + ask[0]) - p.skew * inventory * tick
        half = 0.5 * p.spread_ticks * tick
        want = {
            BUY: min(math.floor((reservation - half) / tick + EPS) * tick, bid[0]),
            SELL: max(math.ceil((reservation + half) / tick - EPS) * tick, ask[0]),
        }
        if position + p.size > p.max_position + EPS:
            del want[BUY]
        if position - p.size < -p.max_position - EPS:
            del want[SELL]
        for side in (BUY, SELL):
            self._quote(ctx, side, want.get(side), tick)
        ctx.plot("reservation", reservation)
        ctx.plot("inventory", inventory)
        self._watch_limit(ctx, position)

    def _quote(self, ctx: StrategyContext, side: int, price: float | None, tick: float) -> None:
        order_id = self.quotes.get(side)
        state = ctx.order(order_id) if order_id is not None else None
        if state is not None and state.is_open:
            on_price = price is not None and abs((state.order.price or 0.0) - price) < 0.5 * tick
            if not on_price and not state.cancel_requested:
                ctx.cancel(state.order_id)
            return  # keep it, or wait until the cancel is confirmed before replacing it
        if price is None:
            self.quotes.pop(side, None)
            return
        send = ctx.buy if side == BUY else ctx.sell
        self.quotes[side] = send(self.params.size, price, tif="POST_ONLY")

    def _watch_limit(self, ctx: StrategyContext, position: float) -> None:
        limit = self.params.max_position - self.params.size + EPS
        state = 1 if position > limit else -1 if position < -limit else 0
        if state != self.at_limit and state != 0:
            ctx.signal("max_long" if state > 0 else "max_short", position)
        self.at_limit = state
