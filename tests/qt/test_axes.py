from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtGui import QPainter, QPicture
from pytestqt.qtbot import QtBot

from replayterm.qt import theme
from replayterm.qt.views.axes import LeanAxis, LeanDateAxis

T0 = 1_704_153_600.0  # 2024-01-02 00:00:00 UTC, seconds


def _specs(axis: pg.AxisItem) -> tuple[list[tuple[float, float, float, float]], list[tuple[str, tuple]]]:
    picture = QPicture()
    p = QPainter(picture)
    try:
        specs = axis.generateDrawSpecs(p)
    finally:
        p.end()
    assert specs is not None
    _, ticks, texts = specs
    lines = [(round(a.x(), 6), round(a.y(), 6), round(b.x(), 6), round(b.y(), 6)) for _, a, b in ticks]
    labels = [(s, tuple(round(v, 6) for v in r.getRect())) for r, _, s in texts]
    return lines, labels


_windows: list[pg.GraphicsLayoutWidget] = []  # the plots live as long as their window


def _plot_pair(
    qtbot: QtBot, lean: pg.AxisItem, stock: pg.AxisItem, side: str
) -> tuple[pg.PlotItem, pg.PlotItem]:
    win = pg.GraphicsLayoutWidget()
    _windows.append(win)
    qtbot.addWidget(win)
    win.resize(900, 600)
    plots = []
    for row, axis in enumerate((lean, stock)):
        axis.setStyle(tickFont=theme.mono_font(8))
        plot = win.addPlot(row=row, col=0, axisItems={side: axis})
        plot.showAxis(side)
        plots.append(plot)
    win.show()
    qtbot.waitExposed(win)
    return plots[0], plots[1]


@pytest.mark.parametrize(
    ("lo", "hi"),
    [(40000.0, 40020.0), (39990.3, 40031.7), (-1.05, 1.05), (0.0, 0.0004), (12.5, 13_750.0)],
)
def test_lean_axis_lays_out_what_pyqtgraph_does(qtbot: QtBot, lo: float, hi: float) -> None:
    stock = pg.AxisItem("right")
    stock.enableAutoSIPrefix(False)
    a, b = _plot_pair(qtbot, LeanAxis("right"), stock, "right")
    for plot in (a, b):
        plot.setYRange(lo, hi, padding=0)
    qtbot.wait(1)
    assert _specs(a.getAxis("right")) == _specs(b.getAxis("right"))


@pytest.mark.parametrize("width_s", [5.0, 60.0, 3600.0, 4 * 3600.0])
def test_lean_date_axis_lays_out_what_pyqtgraph_does(qtbot: QtBot, width_s: float) -> None:
    stock = pg.DateAxisItem("bottom", utcOffset=0)
    stock.enableAutoSIPrefix(False)
    a, b = _plot_pair(qtbot, LeanDateAxis("bottom", utcOffset=0), stock, "bottom")
    for plot in (a, b):
        plot.setXRange(T0 + 17.25, T0 + 17.25 + width_s, padding=0)
    qtbot.wait(1)
    lines, labels = _specs(a.getAxis("bottom"))
    assert labels  # a time axis always labels its major ticks
    assert (lines, labels) == _specs(b.getAxis("bottom"))


def test_grid_ticks_are_the_ones_the_axis_drew(qtbot: QtBot) -> None:
    a, _ = _plot_pair(qtbot, LeanAxis("right"), pg.AxisItem("right"), "right")
    axis = a.getAxis("right")
    assert axis.grid_ticks(0.0, 1.0) == []  # not laid out yet
    a.setYRange(100.0, 200.0, padding=0)
    _specs(axis)
    lo, hi = a.getViewBox().viewRange()[1]
    major_spacing, major = axis.grid_ticks(lo, hi)[0]
    assert major_spacing == 20.0
    assert major == [100.0, 120.0, 140.0, 160.0, 180.0, 200.0]


def test_lean_tick_values_equal_pyqtgraph_ones() -> None:
    lean, stock = LeanAxis("left"), pg.AxisItem("left")
    for lo, hi, size in [
        (40000.0, 40020.0, 400.0),
        (39990.3, 40031.7, 93.0),
        (-1.05, 1.05, 80.0),
        (0.0, 0.0004, 250.0),
        (7.0, 7.0, 100.0),
        (1e-9, 3e-9, 1000.0),
        (12.5, 13_750.0, 1200.0),
    ]:
        assert lean.tickValues(lo, hi, size) == stock.tickValues(lo, hi, size)


def test_price_labels_keep_the_decimals_of_the_spacing(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Above 10000 pyqtgraph printed ``63944, 63944, 63943.9`` for ticks 0.05 apart."""
    axis = LeanAxis("right")
    assert axis.tickStrings([63944.0, 63943.95, 63943.9], 1.0, 0.05) == ["63944.00", "63943.95", "63943.90"]
    assert axis.tickStrings([63940.0, 63950.0], 1.0, 10.0) == ["63940", "63950"]
    assert axis.tickStrings([0.5, 0.6], 1.0, 0.1) == ["0.5", "0.6"]
