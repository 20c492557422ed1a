"""One way to add a chart pane: price/value axis on the right at a fixed width (so the time axes
of stacked panes line up), dim lean axes, a grid, no menu or auto-range."""

from __future__ import annotations

import pyqtgraph as pg

from replayterm.qt import theme
from replayterm.qt.views.axes import LeanAxis
from replayterm.qt.views.plot_items import GridItem

AXIS_WIDTH = 78


def add_chart_plot(
    glw: pg.GraphicsLayoutWidget, row: int, col: int, name: str, bottom: pg.AxisItem
) -> pg.PlotItem:
    plot = glw.addPlot(row=row, col=col, axisItems={"bottom": bottom, "right": LeanAxis("right")})
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.hideAxis("left")
    plot.showAxis("right")
    right = plot.getAxis("right")
    right.setWidth(AXIS_WIDTH)
    right.setLabel(name, color=theme.DIM)
    for ax in (right, bottom):
        ax.setTextPen(theme.DIM)
        ax.setPen(theme.BORDER)
        ax.setStyle(tickFont=theme.mono_font(8))
    plot.addItem(GridItem(bottom, right, theme.GRID), ignoreBounds=True)
    plot.getViewBox().enableAutoRange(enable=False)
    return plot
