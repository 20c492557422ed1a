"""A complete ReplayTerm strategy to copy and change: trade-flow momentum with exits.

Idea: when takers have bought (or sold) much more than the other way over the last few seconds,
the price tends to keep going for a little while. The strategy

- keeps the net taker volume of the last ``window_ms`` (buys minus sells) from ``on_trade``;
- when flat and that flow passes ``flow_threshold``, crosses the spread with an IOC limit order
  one tick through the best price (it fills now or not at all);
- exits with a market order at a take-profit or a stop-loss (checked on every book message), or
  after ``max_hold_ms`` (a timer), whichever comes first.

Run it headless on the bundled sample:

    replayterm backtest data/*incremental_book_L2*.csv.gz data/*trades*.csv.gz \\
        --strategy examples/my_strategy.py --param flow_threshold=1.0 --out results/

or load the file in the desktop app. Edit, save and reload: it re-runs from the start.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from replayterm.core.strategy import Fill, Strategy, StrategyContext, TradeView


@dataclass
class TradeFlowParams:
    # The GUI builds its parameter form from these fields (int, float, bool and str).
    window_ms: int = 2_000  # how far back the trade flow looks
    flow_threshold: float = 1.0  # enter when |net taker volume| over the window exceeds this
    size: float = 0.01  # order size, in the instrument's quantity unit
    take_profit_ticks: int = 6  # exit when the mid moved this far our way...
    stop_loss_ticks: int = 4  # ...or this far against us
    max_hold_ms: int = 30_000  # and at the latest after this long
    plot_ms: int = 250  # plot the flow at most this often


class TradeFlow(Strategy):
    name = "trade_flow"
    Params = TradeFlowParams

    def __init__(self, params: TradeFlowParams | None = None) -> None:
        super().__init__(params)
        p = self.params
        if p.window_ms <= 0 or p.flow_threshold <= 0 or p.size <= 0 or p.max_hold_ms <= 0:
            raise ValueError("window_ms, flow_threshold, size and max_hold_ms must be > 0")
        self.window: deque[tuple[int, float]] = deque()  # (time, signed taker volume)
        self.flow = 0.0
        self.order_id: int | None = None  # the order in flight (entry or exit), if any
        self.entry_price = math.nan
        self.exit_deadline = 0
        self.next_plot = 0

    # -- market data ----------------------------------------------------------------------------
    def on_trade(self, ctx: StrategyContext, trade: TradeView) -> None:
        # ``trade`` is reused for the next trade: read its fields now, never keep the object.
        signed = trade.amount * trade.side  # side: +1 taker buy, -1 taker sell, 0 unknown
        self.window.append((trade.local_ts, signed))
        self.flow += signed
        horizon = ctx.now - self.params.window_ms * 1000
        while self.window and self.window[0][0] <= horizon:
            self.flow -= self.window.popleft()[1]
        if ctx.now >= self.next_plot:
            ctx.plot("flow", self.flow)
            self.next_plot = ctx.now + self.params.plot_ms * 1000
        if self.order_id is None and ctx.position == 0.0 and abs(self.flow) > self.params.flow_threshold:
            self._enter(ctx, 1 if self.flow > 0 else -1)

    def on_book(self, ctx: StrategyContext, book: object) -> None:
        if self.order_id is not None or ctx.position == 0.0 or ctx.book is None:
            return
        mid = ctx.book.mid()
        if math.isnan(mid):
            return
        p, tick = self.params, ctx.tick_size
        moved = (mid - self.entry_price) * (1 if ctx.position > 0 else -1)
        if moved >= p.take_profit_ticks * tick:
            self._exit(ctx, "take_profit")
        elif moved <= -p.stop_loss_ticks * tick:
            self._exit(ctx, "stop_loss")

    def on_timer(self, ctx: StrategyContext) -> None:
        # Timers cannot be cancelled one by one: check that this one is still the current deadline.
        if self.order_id is None and ctx.position != 0.0 and ctx.now >= self.exit_deadline:
            self._exit(ctx, "timeout")

    # -- our orders -----------------------------------------------------------------------------
    def on_fill(self, ctx: StrategyContext, fill: Fill) -> None:
        if fill.leaves > 0.0:
            return  # more of this order to come
        self.order_id = None
        if ctx.position != 0.0:  # the entry is complete
            self.entry_price = ctx.avg_price
            self.exit_deadline = ctx.now + self.params.max_hold_ms * 1000
            ctx.set_timer(self.params.max_hold_ms * 1000)
            ctx.log(f"in at {self.entry_price:.2f}, position {ctx.position:+g}")
        else:
            ctx.log(f"out at {fill.price:.2f}; net PnL so far {ctx.pnl.net:.4f}")

    def on_order(self, ctx: StrategyContext, event: object) -> None:
        # Ack, Reject or Cancelled. An IOC entry that found nothing comes back Cancelled.
        state = ctx.order(self.order_id) if self.order_id is not None else None
        if state is not None and not state.is_open:
            self.order_id = None
            if ctx.position != 0.0 and math.isnan(self.entry_price):
                self.entry_price = ctx.avg_price  # partly filled entry: manage what we got
                ctx.set_timer(self.params.max_hold_ms * 1000)

    # -- helpers --------------------------------------------------------------------------------
    def _enter(self, ctx: StrategyContext, side: int) -> None:
        book = ctx.book
        best = None if book is None else (book.best_ask() if side > 0 else book.best_bid())
        if best is None:
            return
        price = best[0] + side * ctx.tick_size  # one tick through the touch, IOC: now or never
        send = ctx.buy if side > 0 else ctx.sell
        self.order_id = send(self.params.size, price, tif="IOC", tag="entry")
        self.entry_price = math.nan
        ctx.signal("buy_flow" if side > 0 else "sell_flow", self.flow, price=price)

    def _exit(self, ctx: StrategyContext, reason: str) -> None:
        position = ctx.position
        send = ctx.sell if position > 0 else ctx.buy
        self.order_id = send(abs(position), tag=reason)
        ctx.signal(reason, ctx.pnl.unrealized)
