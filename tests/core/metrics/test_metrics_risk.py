"""Resampling, Sharpe, Sortino and drawdown on hand-computed curves."""

from __future__ import annotations

import math

import numpy as np
import pytest

from replayterm.core.metrics import max_drawdown, period_returns, periods_per_year, resample, sharpe, sortino

S = 1_000_000
TS = np.array([0, 1_500_000, 3_000_000])
EQ = np.array([0.0, 10.0, 5.0])  # on a 1 s grid: 0, 0, 10, 5 -> increments 0, 10, -5


def test_resample_as_of_on_a_fixed_grid() -> None:
    grid, values = resample(TS, EQ, S)
    assert grid.tolist() == [0, S, 2 * S, 3 * S]
    assert values.tolist() == [0.0, 0.0, 10.0, 5.0]
    assert period_returns(TS, EQ, S).tolist() == [0.0, 10.0, -5.0]
    grid, values = resample(np.array([0, 2_500_000]), np.array([1.0, 2.0]), S)
    assert grid.tolist() == [0, S, 2 * S, 3 * S]  # the grid reaches past the end: last value kept
    assert values.tolist() == [1.0, 1.0, 1.0, 2.0]


def test_resample_validation() -> None:
    with pytest.raises(ValueError, match="interval"):
        resample(TS, EQ, 0)
    with pytest.raises(ValueError, match="non-decreasing"):
        resample(np.array([2, 1]), np.array([1.0, 1.0]), S)
    with pytest.raises(ValueError, match="longer interval"):
        resample(np.array([0, 10**15]), np.array([1.0, 1.0]), 1)
    grid, values = resample(np.array([], dtype=np.int64), np.array([]), S)
    assert grid.shape == values.shape == (0,)


def test_sharpe_by_hand() -> None:
    mean, sd = 5 / 3, math.sqrt(((0 - 5 / 3) ** 2 + (10 - 5 / 3) ** 2 + (-5 - 5 / 3) ** 2) / 2)
    assert sharpe(TS, EQ, S, annualization=1.0) == pytest.approx(mean / sd)
    assert sharpe(TS, EQ, S) == pytest.approx(mean / sd * math.sqrt(365 * 24 * 3600))
    assert periods_per_year(60 * S) == pytest.approx(365 * 24 * 60)


def test_sortino_by_hand() -> None:
    assert sortino(TS, EQ, S, annualization=1.0) == pytest.approx((5 / 3) / math.sqrt(25 / 3))


def test_ratio_edge_cases() -> None:
    flat = np.array([3.0, 3.0, 3.0])
    ts = np.array([0, S, 2 * S])
    assert math.isnan(sharpe(ts, flat, S))
    assert math.isnan(sortino(ts, flat, S))
    rising = np.array([1.0, 2.0, 4.0])
    assert sortino(ts, rising, S) == math.inf
    assert math.isnan(sharpe(np.array([0, S]), np.array([1.0, 2.0]), S))  # one increment
    assert math.isnan(sharpe(np.array([], dtype=np.int64), np.array([]), S))


def test_max_drawdown_by_hand() -> None:
    assert max_drawdown(np.array([100.0, 120.0, 90.0, 130.0, 117.0])) == pytest.approx((30.0, 25.0))
    # A PnL curve from 0: the fall below 0 has no peak to take a percentage of.
    assert max_drawdown(np.array([0.0, -5.0, 5.0, 2.0])) == pytest.approx((5.0, 60.0))
    assert max_drawdown(np.array([0.0, -5.0])) == (5.0, pytest.approx(math.nan, nan_ok=True))
    assert max_drawdown(np.array([1.0, 2.0, 3.0])) == (0.0, 0.0)
    dd, pct = max_drawdown(np.array([]))
    assert math.isnan(dd)
    assert math.isnan(pct)
