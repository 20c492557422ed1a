"""Prices and sizes as exact integers: ticks on the price grid, lots of the size step.

Every order-flow figure is a sum, a maximum or a count, and sums of floats depend on the order
they are added in: a footprint rebuilt after a seek would then differ from the one built while
playing in the last digit. Converting each trade once to integers (price in ticks, size in lots)
makes every aggregate exact and independent of how the trades were split into batches; values go
back to floats only when shown, rounded to the grid's decimals, so no float noise is printed.

The grid is read from the trades themselves: the fewest decimals that hold every price and size
exactly (at most ``MAX_DECIMALS``), and the tick as the greatest common step of the prices (so a
0.25 tick is found as such). A tick size known from the book is used when the prices fit it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np

MAX_DECIMALS = 10
WINDOW_ROWS = 1 << 18


@nb.njit(cache=True)
def _decimals_needed(values: np.ndarray, start: int) -> int:
    """The fewest decimals (>= ``start``) that represent every value exactly (-1: more than max)."""
    k = start
    for x in values:
        while True:
            scaled = x * 10.0**k
            if abs(scaled - np.rint(scaled)) <= 1e-9 * max(1.0, abs(scaled)):
                break
            k += 1
            if k > MAX_DECIMALS:
                return -1
    return k


@nb.njit(cache=True)
def _gcd_steps(q: np.ndarray, base: int, g: int) -> int:
    for v in q:
        d = abs(v - base)
        while d:
            g, d = d, g % d
    return g


def windows(column: Any, start: int, stop: int, rows: int = WINDOW_ROWS) -> Iterator[tuple[int, np.ndarray]]:
    """``[start, stop)`` of a numpy array or mapped column in pieces of at most ``rows`` rows."""
    for lo in range(start, stop, rows):
        hi = min(lo + rows, stop)
        yield lo, np.asarray(column[lo:hi])


@dataclass(frozen=True)
class Grid:
    """``price = tick * tick_units / 10**price_decimals``; ``amount = lots / 10**size_decimals``."""

    price_decimals: int
    tick_units: int  # the tick in units of 10**-price_decimals
    size_decimals: int
    ref_tick: int  # the first trade's tick: sums of squares are taken relative to it

    @property
    def tick_size(self) -> float:
        return round(self.tick_units / 10**self.price_decimals, self.price_decimals)

    @property
    def lot_size(self) -> float:
        return round(10.0**-self.size_decimals, self.size_decimals)

    def key(self) -> list[int]:
        return [self.price_decimals, self.tick_units, self.size_decimals, self.ref_tick]

    # -- conversions -------------------------------------------------------------------------

    def ticks(self, price: np.ndarray) -> np.ndarray:
        units = np.rint(np.asarray(price, dtype=np.float64) * 10.0**self.price_decimals).astype(np.int64)
        return units // self.tick_units if self.tick_units != 1 else units

    def lots(self, amount: np.ndarray) -> np.ndarray:
        return np.rint(np.asarray(amount, dtype=np.float64) * 10.0**self.size_decimals).astype(np.int64)

    def price(self, ticks: Any) -> Any:
        """Ticks back to prices, rounded to the grid (exact decimals, no float noise)."""
        return np.round(
            np.asarray(ticks, dtype=np.float64) * self.tick_units / 10**self.price_decimals,
            self.price_decimals,
        )

    def price_of(self, ticks: float) -> float:
        """A derived price in ticks (a VWAP, fractional): a few digits finer than the grid."""
        if not math.isfinite(ticks):
            return math.nan
        return round(ticks * self.tick_units / 10**self.price_decimals, self.price_decimals + 3)

    def amount(self, lots: Any) -> Any:
        return np.round(np.asarray(lots, dtype=np.float64) / 10**self.size_decimals, self.size_decimals)

    def notional(self, tick_lots: Any) -> Any:
        """``Σ ticks × lots`` as quote currency."""
        scale = self.tick_units / 10 ** (self.price_decimals + self.size_decimals)
        return np.round(
            np.asarray(tick_lots, dtype=np.float64) * scale, self.price_decimals + self.size_decimals
        )

    def notional_units(self, quote: float) -> int:
        """A notional in quote currency as ``ticks × lots`` units (bar thresholds)."""
        return max(1, round(quote * 10 ** (self.price_decimals + self.size_decimals) / self.tick_units))


class GridError(ValueError):
    """The trades' prices or sizes have more decimals than can be aggregated exactly."""


def detect_grid(price: Any, amount: Any, tick_hint: float = 0.0) -> Grid:
    """The grid of a trade column pair (numpy arrays or mapped columns); one pass over both."""
    n = int(price.shape[0])
    if n == 0:
        return Grid(0, 1, 0, 0)
    kp = ka = 0
    for _, part in windows(price, 0, n):
        kp = _decimals_needed(np.ascontiguousarray(part, dtype=np.float64), kp)
        if kp < 0:
            raise GridError(f"trade prices have more than {MAX_DECIMALS} decimals")
    for _, part in windows(amount, 0, n):
        ka = _decimals_needed(np.ascontiguousarray(part, dtype=np.float64), ka)
        if ka < 0:
            raise GridError(f"trade sizes have more than {MAX_DECIMALS} decimals")
    if tick_hint > 0:
        kp = max(kp, _decimals_needed(np.array([tick_hint]), 0))
    scale = 10.0**kp
    first = int(np.rint(float(np.asarray(price[0:1])[0]) * scale))
    g = 0
    for _, part in windows(price, 0, n):
        g = _gcd_steps(np.rint(part * scale).astype(np.int64), first, g)
    tick = g or 1
    if tick_hint > 0:
        hint = round(tick_hint * scale)
        if hint > 0 and tick % hint == 0 and first % hint == 0:
            tick = hint  # the book's tick: rows of N ticks then mean what the user expects
    if first % tick:
        tick = math.gcd(tick, first) or 1
    return Grid(kp, tick, ka, first // tick)
