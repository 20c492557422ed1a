from __future__ import annotations

import numpy as np
import pytest

from replayterm.qt.models.column_buffer import ColumnBuffer
from replayterm.qt.models.plot_data import (
    aggregate_prints,
    bars,
    decimate_minmax,
    step_xy,
    visible_slice,
)


def test_column_buffer_keeps_newest_rows_contiguously() -> None:
    buf = ColumnBuffer(5, {"t": np.int64, "v": np.float64})
    expected: list[int] = []
    for start in range(0, 40, 3):
        rows = np.arange(start, start + 3)
        buf.append(t=rows, v=rows * 0.5)
        expected = (expected + list(rows))[-5:]
        assert buf.column("t").tolist() == expected
        assert buf.column("v").tolist() == [x * 0.5 for x in expected]
    buf.append(t=np.arange(100, 112), v=np.zeros(12))
    assert buf.column("t").tolist() == list(range(107, 112))
    assert buf.last("t") == 111
    buf.clear()
    assert len(buf) == 0
    assert buf.last("t") is None


def test_column_buffer_needs_every_column() -> None:
    buf = ColumnBuffer(4, {"t": np.int64, "v": np.float64})
    with pytest.raises(KeyError):
        buf.append(t=np.arange(2))


def test_visible_slice_widens_by_one_sample() -> None:
    t = np.arange(10.0)
    sl = visible_slice(t, 3.5, 6.5)
    assert t[sl].tolist() == [3.0, 4.0, 5.0, 6.0, 7.0]


def test_step_xy_holds_values_forward() -> None:
    xs, ys = step_xy(np.array([0.0, 1.0, 2.0]), np.array([5.0, 6.0, 7.0]), until=3.0)
    assert xs.tolist() == [0, 1, 1, 2, 2, 3]
    assert ys.tolist() == [5, 5, 6, 6, 7, 7]


def test_decimate_minmax_keeps_extremes() -> None:
    x = np.linspace(0, 1, 10_000)
    y = np.zeros_like(x)
    y[1234] = 50.0
    y[8000] = -20.0
    xo, (yo,) = decimate_minmax(x, [y], bins=100)
    assert xo.shape[0] <= 200
    assert yo.max() == 50.0
    assert yo.min() == -20.0
    assert np.all(np.diff(xo) >= 0)


def test_aggregate_prints_sums_by_bin_side_and_price() -> None:
    t = np.array([0.1, 0.2, 0.3, 1.5, 1.6])
    price = np.array([10.0, 10.0, 11.0, 10.0, 10.0])
    amount = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    side = np.array([1, 1, 1, 1, -1], dtype=np.int8)
    x, p, a, s = aggregate_prints(t, price, amount, side, bin_width=1.0)
    got = sorted(zip(x.tolist(), p.tolist(), a.tolist(), s.tolist(), strict=True))
    assert got == [(0.5, 10.0, 3.0, 1), (0.5, 11.0, 4.0, 1), (1.5, 10.0, 8.0, 1), (1.5, 10.0, 16.0, -1)]


def test_bars_split_by_sign() -> None:
    (px, py), (nx, ny) = bars(np.array([1.0, 2.0, 3.0]), np.array([0.5, -0.25, 0.0]))
    assert px.tolist() == [1.0, 1.0]
    assert py.tolist() == [0.0, 0.5]
    assert nx.tolist() == [2.0, 2.0]
    assert ny.tolist() == [0.0, -0.25]
