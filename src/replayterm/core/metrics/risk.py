"""Risk/return statistics of an equity curve.

Returns are **equity increments per fixed interval**: the curve is sampled as-of (last value at
or before) on the grid ``t0 + k·interval`` for ``k = 0..ceil((t_end − t0)/interval)``, and
``r_k = E(t_k) − E(t_{k−1})``. Sharpe and Sortino are ratios, so dividing every increment by a
fixed capital would not change them; they equal the ratios of simple returns on a constant
capital base, and they stay defined for a PnL curve that starts at 0.

They are annualised by the number of such intervals in a 365-day year (crypto trades around the
clock), and left undefined (``ratio_note`` says why) with fewer than ``MIN_INTERVALS`` returns:
a few minutes of returns annualised give figures like 157 that mean nothing.
"""

from __future__ import annotations

import math

import numpy as np

SECONDS_PER_YEAR = 365 * 24 * 3600  # crypto trades around the clock
MAX_GRID_POINTS = 20_000_000
DEFAULT_INTERVAL_US = 60_000_000
MIN_INTERVALS = 30


def periods_per_year(interval_us: int) -> float:
    """How many ``interval_us`` periods fit in a 365-day year: the default annualization."""
    return SECONDS_PER_YEAR * 1_000_000 / interval_us


def resample(ts: np.ndarray, values: np.ndarray, interval_us: int) -> tuple[np.ndarray, np.ndarray]:
    """As-of samples of ``values`` on the grid described in the module docstring."""
    t = np.asarray(ts, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    if t.shape != v.shape:
        raise ValueError(f"ts and values differ in shape ({t.shape} vs {v.shape})")
    if interval_us <= 0:
        raise ValueError(f"interval must be > 0 µs, got {interval_us}")
    if t.shape[0] == 0:
        return t.copy(), v.copy()
    if np.any(np.diff(t) < 0):
        raise ValueError("equity times must be non-decreasing")
    steps = -(-(int(t[-1]) - int(t[0])) // interval_us)
    if steps + 1 > MAX_GRID_POINTS:
        raise ValueError(
            f"an interval of {interval_us} µs over this span needs {steps + 1} samples; use a longer interval"
        )
    grid = int(t[0]) + interval_us * np.arange(steps + 1, dtype=np.int64)
    return grid, v[np.searchsorted(t, grid, side="right") - 1]


def period_returns(ts: np.ndarray, equity: np.ndarray, interval_us: int) -> np.ndarray:
    _, sampled = resample(ts, equity, interval_us)
    return np.diff(sampled)


def ratio_note(
    ts: np.ndarray, equity: np.ndarray, interval_us: int, min_intervals: int = MIN_INTERVALS
) -> str | None:
    """Why Sharpe/Sortino are not given for this curve (None when they can be)."""
    n = period_returns(ts, equity, interval_us).shape[0]
    if n < min_intervals:
        return (
            f"the run has {n} interval(s) of {interval_us / 1e6:g} s; Sharpe and Sortino need at least "
            f"{min_intervals} (a shorter --metrics-interval or a longer run)"
        )
    return None


def sharpe(
    ts: np.ndarray,
    equity: np.ndarray,
    interval_us: int = DEFAULT_INTERVAL_US,
    annualization: float | None = None,
    min_intervals: int = 2,
) -> float:
    """mean(r) / std(r, ddof=1) × sqrt(annualization); ``annualization`` defaults to
    ``periods_per_year(interval_us)``. NaN with fewer than ``min_intervals`` (at least 2)
    increments or zero spread."""
    r = period_returns(ts, equity, interval_us)
    if r.shape[0] < max(min_intervals, 2):
        return math.nan
    sd = float(np.std(r, ddof=1))
    if sd == 0.0 or not math.isfinite(sd):
        return math.nan
    k = periods_per_year(interval_us) if annualization is None else annualization
    return float(np.mean(r)) / sd * math.sqrt(k)


def sortino(
    ts: np.ndarray,
    equity: np.ndarray,
    interval_us: int = DEFAULT_INTERVAL_US,
    annualization: float | None = None,
    min_intervals: int = 2,
) -> float:
    """mean(r) / sqrt(mean(min(r, 0)²)) × sqrt(annualization), target 0, the downside mean over
    all periods. NaN with fewer than ``min_intervals`` (at least 2) increments; with no negative
    increment: +inf if the mean is positive, NaN if it is zero."""
    r = period_returns(ts, equity, interval_us)
    if r.shape[0] < max(min_intervals, 2):
        return math.nan
    mean = float(np.mean(r))
    downside = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2)))
    if downside == 0.0:
        return math.inf if mean > 0 else math.nan
    k = periods_per_year(interval_us) if annualization is None else annualization
    return mean / downside * math.sqrt(k)


def max_drawdown(equity: np.ndarray) -> tuple[float, float]:
    """(largest peak-to-trough fall, the same in percent of the peak it fell from).

    The absolute figure is ``max(running_max(E) − E)``, 0 for a curve that never falls. The
    percentage is ``100 × max((peak − E) / peak)`` over points whose running peak is > 0; NaN
    when there is none (a PnL curve starting at 0 has no meaningful percentage: pass an initial
    equity). Both NaN for an empty curve.
    """
    e = np.asarray(equity, dtype=np.float64)
    if e.shape[0] == 0:
        return math.nan, math.nan
    peak = np.maximum.accumulate(e)
    fall = peak - e
    positive = peak > 0
    pct = float(np.max(fall[positive] / peak[positive])) * 100.0 if np.any(positive) else math.nan
    return float(np.max(fall)), pct
