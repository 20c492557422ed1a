"""Basis mean reversion between two instruments (a perpetual and its spot, or two venues).

It trades the first two of its instruments, A and B (``instruments`` parameter, default "*":
every open instrument, the focused one first). After each book message of either it computes

    basis = mid(A) − mid(B)

and an exponentially weighted mean and deviation of it over ``halflife_s`` of simulated time.
When the basis is ``entry_z`` deviations above its mean, A is rich: sell ``size`` of A and buy
``size`` of B; below, the reverse. When the basis comes back within ``exit_z`` deviations the
pair is closed. Market orders on both legs, one pair in flight at a time; a leg that fills
partly is evened out at the next book message. Nothing is traded before ``warmup_s`` of data.

Signals: "rich" / "cheap" with the z-score as strength, "close". Plots: "basis", "basis_mean"
and "z", at most every ``plot_ms``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from replayterm.core.strategy import MarketBook, Strategy, StrategyContext

FLAT = 1e-12


@dataclass
class BasisParams:
    instruments: str = "*"  # "A,B" as exchange:symbol; "*" = the open instruments, focused first
    size: float = 0.01  # traded on each leg
    halflife_s: float = 30.0  # of the basis mean and deviation
    entry_z: float = 2.0
    exit_z: float = 0.5
    warmup_s: float = 10.0
    plot_ms: int = 200


class Basis(Strategy):
    name = "basis"
    Params = BasisParams

    def __init__(self, params: BasisParams | None = None) -> None:
        super().__init__(params)
        p = self.params
        if p.size <= 0 or p.halflife_s <= 0 or p.entry_z <= p.exit_z or p.exit_z < 0:
            raise ValueError("need size > 0, halflife_s > 0 and entry_z > exit_z >= 0")
        self.mean = math.nan
        self.var = 0.0
        self.last_ts = 0
        self.start_ts = -1
        self.next_plot = 0
        self.legs: tuple[str, str] = ("", "")

    def on_start(self, ctx: StrategyContext) -> None:
        if len(ctx.instruments) < 2:
            raise ValueError(
                f"basis needs two instruments and has {list(ctx.instruments)}: open a second "
                "instrument or set the 'instruments' parameter to 'exchange:A,exchange:B'"
            )
        self.legs = (ctx.instruments[0], ctx.instruments[1])
        ctx.log(f"basis = mid({self.legs[0]}) - mid({self.legs[1]})")

    def on_book(self, ctx: StrategyContext, book: MarketBook) -> None:
        a, b = ctx.books[self.legs[0]], ctx.books[self.legs[1]]
        if a is None or b is None:
            return
        mid_a, mid_b = a.mid(), b.mid()
        if not (mid_a == mid_a and mid_b == mid_b):
            return
        now = ctx.now
        if self.start_ts < 0:
            self.start_ts = now
        basis = mid_a - mid_b
        z = self._update(basis, now)
        p = self.params
        if now >= self.next_plot:
            ctx.plot("basis", basis)
            ctx.plot("basis_mean", self.mean)
            if z == z:
                ctx.plot("z", z)
            self.next_plot = now + p.plot_ms * 1000
        if ctx.open_orders or z != z or now - self.start_ts < p.warmup_s * 1e6:
            return
        pos_a, pos_b = ctx.position_of(self.legs[0]), ctx.position_of(self.legs[1])
        if abs(pos_a + pos_b) > FLAT:  # a leg filled partly: even out B against A
            self._order(ctx, self.legs[1], -(pos_a + pos_b))
            return
        if abs(pos_a) <= FLAT:
            if z > p.entry_z:
                self._pair(ctx, -p.size)
                ctx.signal("rich", z, basis=basis)
            elif z < -p.entry_z:
                self._pair(ctx, p.size)
                ctx.signal("cheap", z, basis=basis)
        elif abs(z) < p.exit_z:
            self._pair(ctx, -pos_a)
            ctx.signal("close", z, basis=basis)

    def _update(self, basis: float, now: int) -> float:
        if self.mean != self.mean:
            self.mean, self.var, self.last_ts = basis, 0.0, now
            return math.nan
        dt = max(now - self.last_ts, 0) / 1e6
        self.last_ts = now
        alpha = 1.0 - 0.5 ** (dt / self.params.halflife_s)
        delta = basis - self.mean
        self.mean += alpha * delta
        self.var = (1.0 - alpha) * (self.var + alpha * delta * delta)
        sd = math.sqrt(self.var)
        return delta / sd if sd > 0 else math.nan

    def _pair(self, ctx: StrategyContext, amount_a: float) -> None:
        """Trade ``amount_a`` of A (signed) and the opposite of B."""
        self._order(ctx, self.legs[0], amount_a)
        self._order(ctx, self.legs[1], -amount_a)

    @staticmethod
    def _order(ctx: StrategyContext, instrument: str, amount: float) -> None:
        if amount > FLAT:
            ctx.buy(amount, instrument=instrument, tag="basis")
        elif amount < -FLAT:
            ctx.sell(-amount, instrument=instrument, tag="basis")
