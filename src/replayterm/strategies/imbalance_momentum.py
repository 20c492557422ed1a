"""Order-book imbalance momentum.

After every book message it measures the imbalance of the top ``levels`` levels,

    imbalance = (bid volume - ask volume) / (bid volume + ask volume)     in [-1, 1],

and follows the pressure: when flat it buys ``size`` if the imbalance is above ``threshold``
(more buyers queued than sellers) and sells if it is below ``-threshold``. The position is
closed ``hold_ms`` of simulated time after the entry fill (a timer); after an exit it waits
``cooldown_ms`` before entering again. Market orders, one order in flight at a time.

Signals: "long" / "short" with the imbalance as strength, "exit".
Plots: "imbalance", at most every ``plot_ms`` (a line per book message would be millions of points).
"""

from __future__ import annotations

from dataclasses import dataclass

from replayterm.core.strategy import Fill, MarketBook, Strategy, StrategyContext

FLAT = 1e-12


@dataclass
class ImbalanceParams:
    levels: int = 5  # book levels per side in the imbalance
    threshold: float = 0.3  # enter when |imbalance| exceeds this
    size: float = 0.01  # order size
    hold_ms: int = 5000  # close this long after the entry fill
    cooldown_ms: int = 1000  # wait this long after an exit before entering again
    plot_ms: int = 100  # plot the imbalance at most this often


class ImbalanceMomentum(Strategy):
    name = "imbalance_momentum"
    Params = ImbalanceParams

    def __init__(self, params: ImbalanceParams | None = None) -> None:
        super().__init__(params)
        p = self.params
        if p.levels < 1 or not 0 < p.threshold < 1 or p.size <= 0 or p.hold_ms <= 0 or p.cooldown_ms < 0:
            raise ValueError("need levels >= 1, 0 < threshold < 1, size > 0, hold_ms > 0, cooldown_ms >= 0")
        self.pending: int | None = None
        self.next_entry = 0  # simulated time before which no new position is opened
        self.next_plot = 0

    def on_book(self, ctx: StrategyContext, book: MarketBook) -> None:
        p = self.params
        imbalance = book.imbalance(p.levels)
        now = ctx.now
        if now >= self.next_plot and imbalance == imbalance:
            ctx.plot("imbalance", imbalance)
            self.next_plot = now + p.plot_ms * 1000
        if self.pending is not None or now < self.next_entry or abs(ctx.position) > FLAT:
            return
        if imbalance > p.threshold:
            self.pending = ctx.buy(p.size, tag="enter")
            ctx.signal("long", imbalance)
        elif imbalance < -p.threshold:
            self.pending = ctx.sell(p.size, tag="enter")
            ctx.signal("short", imbalance)

    def on_fill(self, ctx: StrategyContext, fill: Fill) -> None:
        if fill.order_id != self.pending or fill.leaves > 0.0:
            return
        self.pending = None
        if abs(ctx.position) > FLAT:
            ctx.set_timer(self.params.hold_ms * 1000)  # entry done: exit after the holding time
        else:
            self.next_entry = ctx.now + self.params.cooldown_ms * 1000

    def on_order(self, ctx: StrategyContext, event: object) -> None:
        order_id = getattr(event, "order_id", None)
        state = ctx.order(order_id) if order_id is not None else None
        if order_id == self.pending and state is not None and not state.is_open:
            self.pending = None
            if abs(ctx.position) > FLAT:
                ctx.set_timer(self.params.hold_ms * 1000)  # a partial entry: still exit on time

    def on_timer(self, ctx: StrategyContext) -> None:
        position = ctx.position
        if self.pending is None and abs(position) > FLAT:
            close = ctx.sell if position > 0 else ctx.buy
            self.pending = close(abs(position), tag="exit")
            ctx.signal("exit", 0.0)
