"""One crosshair shared by the price chart, the Order Flow chart, the heatmap and the ladder.

Moving the mouse over any of the three plots puts a vertical line at that replay time and a
horizontal one at that price on all of them (the heatmap maps time to its columns); the ladder's
side columns mark the price row; the status bar reads out the time and price. View ▸ Crosshair
(Alt+X) turns it off.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel

from replayterm.qt import theme
from replayterm.qt.flow.ladder_columns import LadderFlowColumns
from replayterm.qt.flow.view import OrderFlowView
from replayterm.qt.numfmt import price_decimals
from replayterm.qt.timefmt import format_utc
from replayterm.qt.views.charts import ChartsView
from replayterm.qt.views.heatmap import HeatmapView


class SharedCrosshair(QObject):
    def __init__(
        self,
        charts: ChartsView,
        flow: OrderFlowView,
        heatmap: HeatmapView,
        ladder: LadderFlowColumns,
        readout: QLabel,
    ) -> None:
        super().__init__(charts)
        self.heatmap, self.ladder, self.readout = heatmap, ladder, readout
        self.act = QAction("Cross&hair", self, checkable=True, checked=True)
        self.act.setShortcut(QKeySequence("Alt+X"))
        self.act.toggled.connect(lambda on: None if on else self.hide())
        pen = pg.mkPen(theme.qcolor(theme.TEXT, 110), width=1, style=Qt.PenStyle.DashLine)
        self.plots: dict[str, pg.PlotItem] = {
            "chart": charts.price_plot,
            "flow": flow.price,
            "heatmap": heatmap.plot.getPlotItem(),
        }
        self.lines: dict[str, tuple[pg.InfiniteLine, pg.InfiniteLine]] = {}
        for name, plot in self.plots.items():
            v = pg.InfiniteLine(angle=90, movable=False, pen=pen)
            h = pg.InfiniteLine(angle=0, movable=False, pen=pen)
            for line in (v, h):
                line.setVisible(False)
                line.setZValue(50)
                plot.addItem(line, ignoreBounds=True)
            self.lines[name] = (v, h)
            plot.scene().sigMouseMoved.connect(lambda pos, n=name: self._moved(n, pos))
        self.t_us: int | None = None
        self.price: float | None = None

    def _moved(self, name: str, pos: QPointF) -> None:
        if not self.act.isChecked():
            return
        vb = self.plots[name].getViewBox()
        if not vb.sceneBoundingRect().contains(pos):
            return
        p = vb.mapSceneToView(pos)
        if name == "heatmap":
            t = self.heatmap.time_at(p.x())
            if t is None:
                return
            t_us = int(t)
        else:
            t_us = int(p.x() * 1e6)
        self.set(t_us, float(p.y()))

    def set(self, t_us: int, price: float) -> None:
        """Put the crosshair at a replay time and price on every view."""
        self.t_us, self.price = t_us, price
        for name, (v, h) in self.lines.items():
            x: float | None = t_us / 1e6
            if name == "heatmap":
                x = self.heatmap.x_at(t_us) if self.heatmap.newest_ts() is not None else None
            if x is None or not math.isfinite(x):
                v.setVisible(False)
            else:
                v.setValue(x)
                v.setVisible(True)
            h.setValue(price)
            h.setVisible(True)
        self.ladder.set_crosshair(price)
        tick = self.ladder._tick
        d = price_decimals(tick) if tick and tick > 0 and math.isfinite(tick) else 2
        self.readout.setText(f"{format_utc(t_us)}  {price:.{d}f}")

    def hide(self) -> None:
        for v, h in self.lines.values():
            v.setVisible(False)
            h.setVisible(False)
        self.ladder.set_crosshair(None)
        self.readout.setText("")
