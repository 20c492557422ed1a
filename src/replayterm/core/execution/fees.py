"""Maker/taker fees on notional and extra slippage on taker fills."""

from __future__ import annotations

import math
from dataclasses import dataclass

from replayterm.core.execution.orders import Liquidity

BPS = 1e-4


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Rates are fractions of notional (0.0002 = 2 bps); a negative maker rate is a rebate.

    ``taker_slippage_bps`` moves every taker fill price against the order (buys pay more, sells get
    less) on top of the walked book price: it stands for the impact our order would have had, which
    a replayed book cannot show. The fee is charged on the slipped price.
    """

    maker: float = 0.0
    taker: float = 0.0
    taker_slippage_bps: float = 0.0

    def __post_init__(self) -> None:
        for name in ("maker", "taker", "taker_slippage_bps"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ValueError(f"fee setting {name} must be finite, got {value!r}")
        if self.taker_slippage_bps < 0:
            raise ValueError(f"taker slippage must be >= 0 bps, got {self.taker_slippage_bps}")
        if abs(self.maker) >= 1 or abs(self.taker) >= 1:
            raise ValueError("fee rates are fractions of notional; use FeeSchedule.from_bps for bps")

    @classmethod
    def from_bps(cls, maker_bps: float, taker_bps: float, taker_slippage_bps: float = 0.0) -> FeeSchedule:
        return cls(maker_bps * BPS, taker_bps * BPS, taker_slippage_bps)

    def rate(self, liquidity: Liquidity) -> float:
        return self.maker if liquidity is Liquidity.MAKER else self.taker

    def fee(self, price: float, amount: float, liquidity: Liquidity) -> float:
        return self.rate(liquidity) * price * amount

    def taker_price(self, side: int, price: float) -> float:
        """The price a taker fill of ``side`` (+1 buy, -1 sell) gets at book price ``price``."""
        if self.taker_slippage_bps == 0.0:
            return price
        return price * (1.0 + side * self.taker_slippage_bps * BPS)
