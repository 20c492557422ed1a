"""Mid-price mean reversion on a rolling z-score.

Every ``sample_ms`` of simulated time (a timer, so the strategy costs nothing per book message)
it notes the mid price. Over the last ``lookback`` notes it computes

    z = (mid - mean) / standard deviation

and bets that stretched prices come back: it sells ``size`` when ``z > entry_z``, buys when
``z < -entry_z``, and closes the position once ``z`` has come back within ``exit_z`` of zero (or
gone past it to the other side). Market orders, one order in flight at a time.

Signals: "enter_long" / "enter_short" / "exit" with the z-score as strength.
Plots: "z" (the z-score) and "mean" (the rolling mean of the mid).
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass

from replayterm.core.strategy import Fill, Strategy, StrategyContext

FLAT = 1e-12


@dataclass
class MeanReversionParams:
    lookback: int = 120  # number of mid samples in the window
    entry_z: float = 2.0  # open a position beyond this many standard deviations
    exit_z: float = 0.5  # close it once back within this many
    size: float = 0.01  # order size (instrument quantity)
    sample_ms: int = 1000  # simulated time between two samples of the mid


class MeanReversion(Strategy):
    name = "mean_reversion"
    Params = MeanReversionParams

    def __init__(self, params: MeanReversionParams | None = None) -> None:
        super().__init__(params)
        p = self.params
        if p.lookback < 2 or p.sample_ms <= 0 or p.size <= 0 or not 0 <= p.exit_z < p.entry_z:
            raise ValueError("need lookback >= 2, sample_ms > 0, size > 0 and 0 <= exit_z < entry_z")
        self.mids: deque[float] = deque(maxlen=p.lookback)
        self.pending: int | None = None  # id of the order in flight, if any

    def on_start(self, ctx: StrategyContext) -> None:
        ctx.set_timer(self.params.sample_ms * 1000)

    def on_timer(self, ctx: StrategyContext) -> None:
        p = self.params
        ctx.set_timer(p.sample_ms * 1000)
        mid = ctx.book.mid() if ctx.book is not None else math.nan
        if not math.isfinite(mid):
            return
        self.mids.append(mid)
        if len(self.mids) < p.lookback:
            return
        mean = statistics.fmean(self.mids)
        std = statistics.pstdev(self.mids, mean)
        if std <= 0.0:
            return
        z = (mid - mean) / std
        ctx.plot("z", z)
        ctx.plot("mean", mean)
        if self.pending is not None:
            return
        position = ctx.position
        if abs(position) <= FLAT:
            if z > p.entry_z:
                self.pending = ctx.sell(p.size, tag="enter")
                ctx.signal("enter_short", z, mid=mid)
            elif z < -p.entry_z:
                self.pending = ctx.buy(p.size, tag="enter")
                ctx.signal("enter_long", z, mid=mid)
        elif (position > 0 and z > -p.exit_z) or (position < 0 and z < p.exit_z):
            close = ctx.sell if position > 0 else ctx.buy
            self.pending = close(abs(position), tag="exit")
            ctx.signal("exit", z, mid=mid)

    def on_fill(self, ctx: StrategyContext, fill: Fill) -> None:
        if fill.order_id == self.pending and fill.leaves == 0.0:
            self.pending = None

    def on_order(self, ctx: StrategyContext, event: object) -> None:
        # A market order that could not fill completely is cancelled (or rejected): try again later.
        order_id = getattr(event, "order_id", None)
        state = ctx.order(order_id) if order_id is not None else None
        if order_id == self.pending and state is not None and not state.is_open:
            self.pending = None
