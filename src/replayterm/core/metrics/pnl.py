"""Position, PnL and equity under average-cost accounting.

Average cost: buying into a long (or selling into a short) moves the entry price to the
amount-weighted average; reducing realizes ``closed × (price − entry) × sign(position)`` and
keeps the entry price; a fill that goes through zero first closes the whole position at that
price and opens the rest at the fill price. Fees are tracked apart from realized PnL, so
``net = realized + unrealized − fees`` and ``equity = initial + net`` (= cash + position × mark).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from replayterm.core.metrics.fills import FillTable

# A position smaller than this share of the amounts involved is float dust: it counts as flat.
FLAT_TOLERANCE = 1e-9


def apply_fill(
    position: float, avg_price: float, side: int, price: float, amount: float
) -> tuple[float, float, float]:
    """One fill on an average-cost position: returns (new position, new entry price, realized PnL).

    The entry price of a flat position is 0.0.
    """
    signed = side * amount
    if position == 0.0 or (position > 0) == (side > 0):
        new = position + signed
        return new, (avg_price * abs(position) + price * amount) / abs(new), 0.0
    closed = min(amount, abs(position))
    realized = closed * (price - avg_price) * (1.0 if position > 0 else -1.0)
    new = position + signed
    if abs(new) <= FLAT_TOLERANCE * max(abs(position), amount):
        return 0.0, 0.0, realized
    if (new > 0) == (position > 0):
        return new, avg_price, realized
    return new, price, realized


@dataclass(frozen=True, slots=True)
class PositionPath:
    """State after each fill: ``position``, ``avg_price`` (0 when flat), cumulative ``realized``
    PnL and cumulative ``fees``."""

    position: np.ndarray
    avg_price: np.ndarray
    realized: np.ndarray
    fees: np.ndarray


def position_path(fills: FillTable) -> PositionPath:
    n = len(fills)
    pos = np.empty(n)
    avg = np.empty(n)
    realized = np.empty(n)
    p = a = r = 0.0
    sides, prices, amounts = fills.side.tolist(), fills.price.tolist(), fills.amount.tolist()
    for i in range(n):
        p, a, dr = apply_fill(p, a, sides[i], prices[i], amounts[i])
        r += dr
        pos[i], avg[i], realized[i] = p, a, r
    return PositionPath(pos, avg, realized, np.cumsum(fills.fee))


@dataclass(frozen=True, slots=True)
class PnL:
    realized: float
    unrealized: float
    fees: float
    position: float
    avg_price: float

    @property
    def net(self) -> float:
        return self.realized + self.unrealized - self.fees


def pnl(fills: FillTable, mark: float) -> PnL:
    """Totals after all fills, the open position marked at ``mark`` (NaN mark with an open
    position gives NaN unrealized PnL; a flat position has 0 whatever the mark)."""
    if len(fills) == 0:
        return PnL(0.0, 0.0, 0.0, 0.0, 0.0)
    path = position_path(fills)
    position, avg = float(path.position[-1]), float(path.avg_price[-1])
    unrealized = 0.0 if position == 0.0 else position * (mark - avg)
    return PnL(float(path.realized[-1]), unrealized, float(path.fees[-1]), position, avg)


def equity_curve(
    fills: FillTable, mark_ts: np.ndarray, mark: np.ndarray, initial_equity: float = 0.0
) -> np.ndarray:
    """Equity at each mark time: ``initial + cash + position × mark``, counting fills with
    ``ts <= mark_ts`` (cash = −Σ side·price·amount − Σ fee). Same length as ``mark_ts``.

    Fills after the last mark do not appear; sample marks at least as often as you need the curve.
    """
    mt = np.asarray(mark_ts, dtype=np.int64)
    mv = np.asarray(mark, dtype=np.float64)
    if mt.shape != mv.shape:
        raise ValueError(f"mark_ts and mark differ in shape ({mt.shape} vs {mv.shape})")
    out = np.full(mt.shape[0], float(initial_equity))
    if len(fills) == 0 or mt.shape[0] == 0:
        return out
    cash = -np.cumsum(fills.side * fills.price * fills.amount + fills.fee)
    position = np.cumsum(fills.signed_amount)
    idx = np.searchsorted(fills.ts, mt, side="right") - 1
    seen = idx >= 0
    j = idx[seen]
    held = position[j]
    held[np.abs(held) <= FLAT_TOLERANCE * np.cumsum(fills.amount)[j]] = 0.0
    # A flat position is worth nothing whatever the mark, even a NaN one.
    value = np.where(held == 0.0, 0.0, held * mv[seen])
    out[seen] += cash[j] + value
    return out
