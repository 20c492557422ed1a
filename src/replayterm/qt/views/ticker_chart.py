"""Derivative ticker panel: funding rate (and predicted), open interest and basis (mark − index).

Fed by the frames' ``ticker`` stream of the shown instrument (appended; reset frames replace).
Funding times the replay has passed are drawn as vertical lines on the funding plot. Plots
share the time axis; the latest values are printed above them.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from replayterm.core.frames import Frame, TickerSeries
from replayterm.qt import theme
from replayterm.qt.timefmt import format_time_of_day

MAX_POINTS = 200_000
_FIELDS = (
    "local_ts",
    "funding_rate",
    "predicted_funding_rate",
    "open_interest",
    "mark_price",
    "index_price",
    "last_price",
    "funding_timestamp",
)


class TickerChartView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel("No derivative_ticker data for this instrument", self)
        self.header.setObjectName("dimLabel")
        self.header.setFont(theme.mono_font(9))
        self.glw = pg.GraphicsLayoutWidget(self)
        self.glw.setBackground(theme.BASE)
        self.funding_plot = self._plot(0, "Funding (bps)")
        self.oi_plot = self._plot(1, "Open interest")
        self.basis_plot = self._plot(2, "Basis (mark−index)")
        for p in (self.oi_plot, self.basis_plot):
            p.setXLink(self.funding_plot)
        for p in (self.funding_plot, self.oi_plot):
            p.hideAxis("bottom")  # one time axis, under the last plot
        self.funding_curve = self.funding_plot.plot(pen=pg.mkPen("#f0a020", width=1.5), stepMode=None)
        self.predicted_curve = self.funding_plot.plot(
            pen=pg.mkPen(theme.qcolor("#f0a020", 140), width=1, style=pg.QtCore.Qt.PenStyle.DashLine)
        )
        self.oi_curve = self.oi_plot.plot(pen=pg.mkPen("#8fb3ff", width=1.5))
        self.basis_curve = self.basis_plot.plot(pen=pg.mkPen("#c678dd", width=1.5))
        self.basis_plot.addItem(
            pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen(theme.GRID)), ignoreBounds=True
        )
        self._funding_lines: list[pg.InfiniteLine] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        layout.addWidget(self.header)
        layout.addWidget(self.glw, 1)
        self._cols: dict[str, np.ndarray] = {}
        self._clear()
        self._stale = False
        self._symbol = ""

    def _plot(self, row: int, name: str) -> pg.PlotItem:
        axis = pg.DateAxisItem(orientation="bottom", utcOffset=0)
        plot = self.glw.addPlot(row=row, col=0, axisItems={"bottom": axis})
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setTitle(name, color=theme.DIM, size="8pt", justify="left")
        plot.getAxis("left").setWidth(64)
        for side in ("left", "bottom"):
            ax = plot.getAxis(side)
            ax.setTextPen(theme.DIM)
            ax.setPen(theme.BORDER)
            ax.setStyle(tickFont=theme.mono_font(8))
        return plot

    def _clear(self) -> None:
        self._cols = {
            k: np.empty(0, dtype=np.int64 if k in ("local_ts", "funding_timestamp") else np.float64)
            for k in _FIELDS
        }

    def series(self) -> dict[str, np.ndarray]:
        return self._cols

    def apply_frame(self, frame: Frame) -> None:
        if frame.reset:
            self._clear()
            self._symbol = frame.symbol
        t = frame.ticker
        if len(t):
            self._append(t)
        if frame.reset or len(t):
            if self.isVisible():
                self._draw()
            else:
                self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._draw()

    def _append(self, t: TickerSeries) -> None:
        for k in _FIELDS:
            col = np.concatenate([self._cols[k], getattr(t, k)])
            self._cols[k] = col[-MAX_POINTS:]

    def _draw(self) -> None:
        self._stale = False
        c = self._cols
        n = c["local_ts"].shape[0]
        if n == 0:
            self.header.setText(f"No derivative_ticker data for {self._symbol or 'this instrument'}")
            for curve in (self.funding_curve, self.predicted_curve, self.oi_curve, self.basis_curve):
                curve.setData([], [])
            self.glw.hide()  # no empty axes: the header says what is missing
            return
        self.glw.show()
        x = c["local_ts"] / 1e6
        self.funding_curve.setData(*_finite(x, c["funding_rate"] * 1e4))
        self.predicted_curve.setData(*_finite(x, c["predicted_funding_rate"] * 1e4))
        self.oi_curve.setData(*_finite(x, c["open_interest"]))
        basis = c["mark_price"] - c["index_price"]
        self.basis_curve.setData(*_finite(x, basis))
        for line in self._funding_lines:
            self.funding_plot.removeItem(line)
        self._funding_lines = []
        passed = np.unique(c["funding_timestamp"][c["funding_timestamp"] > 0])
        passed = passed[passed <= int(c["local_ts"][-1])]
        for ft in passed[-20:]:
            line = pg.InfiniteLine(
                pos=ft / 1e6, angle=90, pen=pg.mkPen(theme.qcolor(theme.WARN, 160), width=1)
            )
            self.funding_plot.addItem(line, ignoreBounds=True)
            self._funding_lines.append(line)
        self.header.setText(self._latest_text())

    def _latest_text(self) -> str:
        c = self._cols

        def last(name: str) -> float:
            col = c[name]
            ok = np.flatnonzero(np.isfinite(col))
            return float(col[ok[-1]]) if ok.size else math.nan

        rate, pred, oi = last("funding_rate"), last("predicted_funding_rate"), last("open_interest")
        mark, index = last("mark_price"), last("index_price")
        nxt = int(c["funding_timestamp"][-1])
        parts = [
            f"funding {rate * 1e4:+.3f} bps" if math.isfinite(rate) else "funding —",
            f"pred {pred * 1e4:+.3f}" if math.isfinite(pred) else "",
            f"next {format_time_of_day(nxt)[:8]}" if nxt > 0 else "",
            f"mark {mark:,.2f}" if math.isfinite(mark) else "",
            f"index {index:,.2f}" if math.isfinite(index) else "",
            f"basis {mark - index:+.2f}" if math.isfinite(mark - index) else "",
            f"OI {oi:,.0f}" if math.isfinite(oi) else "",
        ]
        return "   ".join(p for p in parts if p)


def _finite(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ok = np.isfinite(y)
    return x[ok], y[ok]
