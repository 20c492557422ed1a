"""Fill rules: the choices a simulated exchange makes where an L2 replay cannot say what happened.

Each rule is a setting with a documented default (the conservative choice):

- ``off_tick`` — a limit price that is not a multiple of the instrument's tick size (the smallest
  price step seen in the data):
  ``"reject"`` [default] the order is rejected at arrival with a reason, as an exchange does;
  ``"passive"`` the price is rounded to the tick on the passive side (a buy down, a sell up), so
  it is never worse than the price asked for.
- ``through`` — the opposite side of the book moves through a resting order's price (a bid at 100
  sees asks at 100 or lower) without a trade printing there:
  ``"conservative"`` [default] the order fills only the size the book shows at prices that cross
  it (the liquidity that would have met it), the rest keeps resting;
  ``"full"`` the whole order fills at once (the whole queue at our price is assumed gone).
- ``own_liquidity`` — [default True] liquidity an account's own orders took (taker walks and
  conservative through-fills) stays consumed for that account until the replayed book next
  changes that level; False lets every order see the full displayed size again.

Rules that are not settings: taker slippage never moves a fill beyond the order's limit price,
and a trade that prints beyond a resting order's price fills it fully (price-time priority:
everything at our price traded before the print went further).
"""

from __future__ import annotations

from dataclasses import dataclass

OFF_TICK_RULES = ("reject", "passive")
THROUGH_RULES = ("conservative", "full")


@dataclass(frozen=True, slots=True)
class FillRules:
    off_tick: str = "reject"
    through: str = "conservative"
    own_liquidity: bool = True

    def __post_init__(self) -> None:
        if self.off_tick not in OFF_TICK_RULES:
            raise ValueError(
                f"off-tick rule must be one of {', '.join(OFF_TICK_RULES)}, got {self.off_tick!r}"
            )
        if self.through not in THROUGH_RULES:
            raise ValueError(f"through rule must be one of {', '.join(THROUGH_RULES)}, got {self.through!r}")


def on_tick(price: float, tick: float) -> bool:
    """Whether ``price`` is a multiple of ``tick`` (up to float noise of the printed decimals)."""
    steps = price / tick
    return abs(steps - round(steps)) <= 1e-6


def passive_tick(side: int, price: float, tick: float) -> float:
    """``price`` rounded to the tick on the passive side: a buy (+1) down, a sell (-1) up."""
    inverse = 1.0 / tick
    decimal = abs(inverse - round(inverse)) < 1e-9
    steps = price / tick
    k = round(steps)
    if abs(steps - k) > 1e-6:
        k = int(steps // 1) if side > 0 else -int((-steps) // 1)
    return k / round(inverse) if decimal else k * tick
