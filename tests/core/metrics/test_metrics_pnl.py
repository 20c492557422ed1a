"""Fill tables, average-cost PnL and the equity curve."""

from __future__ import annotations

import math

import numpy as np
import pytest

from replayterm.core.metrics import FillTable, apply_fill, equity_curve, pnl, position_path


def flip_fills() -> FillTable:
    # buy 2@100, buy 2@102 (avg 101), sell 6@105 (+16, short 2@105), buy 2@103 (+4): flat.
    return FillTable.from_columns(
        [1, 2, 3, 4], [1, 1, -1, 1], [100.0, 102.0, 105.0, 103.0], [2.0, 2.0, 6.0, 2.0], [0.1, 0.1, 0.3, 0.1]
    )


def test_fill_table_validation() -> None:
    with pytest.raises(ValueError, match="time order"):
        FillTable.from_columns([2, 1], [1, 1], [1.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="sides"):
        FillTable.from_columns([1], [0], [1.0], [1.0])
    with pytest.raises(ValueError, match="amounts"):
        FillTable.from_columns([1], [1], [1.0], [-1.0])
    with pytest.raises(ValueError, match="shape"):
        FillTable.from_columns([1, 2], [1], [1.0], [1.0])
    assert len(FillTable.empty()) == 0


def test_apply_fill_cases() -> None:
    assert apply_fill(0.0, 0.0, 1, 10.0, 2.0) == (2.0, 10.0, 0.0)
    assert apply_fill(2.0, 10.0, 1, 13.0, 1.0) == (3.0, 11.0, 0.0)
    assert apply_fill(3.0, 11.0, -1, 12.0, 1.0) == (2.0, 11.0, 1.0)
    assert apply_fill(2.0, 11.0, -1, 9.0, 5.0) == (-3.0, 9.0, -4.0)
    assert apply_fill(-3.0, 9.0, 1, 10.0, 3.0) == (0.0, 0.0, -3.0)


def test_position_path_through_a_flip() -> None:
    path = position_path(flip_fills())
    assert path.position.tolist() == [2.0, 4.0, -2.0, 0.0]
    assert path.avg_price.tolist() == [100.0, 101.0, 105.0, 0.0]
    assert path.realized.tolist() == [0.0, 0.0, 16.0, 20.0]
    assert path.fees == pytest.approx([0.1, 0.2, 0.5, 0.6])


def test_pnl_totals() -> None:
    totals = pnl(flip_fills(), mark=math.nan)  # flat: the mark is not needed
    assert (totals.realized, totals.unrealized, totals.position) == (20.0, 0.0, 0.0)
    assert totals.fees == pytest.approx(0.6)
    assert totals.net == pytest.approx(19.4)
    one = pnl(FillTable.from_columns([1], [1], [100.0], [1.0], [0.05]), mark=110.0)
    assert (one.realized, one.unrealized, one.avg_price) == (0.0, 10.0, 100.0)
    assert one.net == pytest.approx(9.95)
    assert pnl(FillTable.empty(), mark=1.0).net == 0.0


def test_equity_curve_by_hand() -> None:
    fills = FillTable.from_columns([10, 20], [1, -1], [100.0, 110.0], [1.0, 1.0], [1.0, 1.0])
    ts = np.array([5, 10, 15, 20, 25])
    mid = np.array([99.0, 100.0, 105.0, 110.0, 120.0])
    assert equity_curve(fills, ts, mid, 1_000.0).tolist() == [1000.0, 999.0, 1004.0, 1008.0, 1008.0]


def test_equity_curve_matches_realized_plus_unrealized_minus_fees() -> None:
    fills = flip_fills()
    ts = np.array([1, 2, 3, 4])
    mid = np.array([100.0, 102.0, 104.0, 103.0])
    curve = equity_curve(fills, ts, mid)
    path = position_path(fills)
    expected = path.realized + path.position * (mid - path.avg_price) - path.fees
    assert curve == pytest.approx(expected)


def test_equity_curve_edge_cases() -> None:
    assert equity_curve(FillTable.empty(), np.array([1, 2]), np.array([1.0, 2.0]), 5.0).tolist() == [5.0, 5.0]
    assert equity_curve(flip_fills(), np.array([], dtype=np.int64), np.array([])).shape == (0,)
    # Flat again after float-dust amounts: a missing (NaN) mark does not poison the curve.
    dust = FillTable.from_columns([1, 2, 3], [1, 1, -1], [10.0, 10.0, 11.0], [0.1, 0.2, 0.3])
    assert equity_curve(dust, np.array([3]), np.array([math.nan]))[0] == pytest.approx(0.3)
    with pytest.raises(ValueError, match="shape"):
        equity_curve(dust, np.array([1, 2]), np.array([1.0]))
