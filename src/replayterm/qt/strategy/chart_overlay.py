"""Strategy marks on the price chart: signals (triangles up/down by the sign of their strength,
at the mid of their time), fills (circles in buy/sell colours, outlined in the strategy colour)
and the ``ctx.plot`` series whose values are prices (dashed lines).

Items are our own, added to the chart's price ``PlotItem`` (``ChartsView.price_plot``) without
taking part in its auto-range. One item per strategy and kind, one ``setData`` per frame with
only the visible points (thinned evenly past ``MAX_MARKERS``).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer

from replayterm.qt import theme
from replayterm.qt.models.plot_data import decimate_minmax, step_xy, visible_slice
from replayterm.qt.strategy.buffers import GrowingColumns
from replayterm.qt.strategy.series import StrategyData
from replayterm.qt.strategy.store import StrategyStore

MAX_MARKERS = 4000
Z_MARKERS = 30
SIGNAL_SIZE = 12
FILL_SIZE = 7


def thin(sl: slice, limit: int = MAX_MARKERS) -> slice:
    """Every k-th index of ``sl`` so that at most ``limit`` remain."""
    n = sl.stop - sl.start
    step = max(1, math.ceil(n / limit))
    return slice(sl.start, sl.stop, step)


class _Marks:
    """The chart items of one strategy."""

    def __init__(self, plot: pg.PlotItem, colour: str) -> None:
        dark = pg.mkPen("#0b0d10", width=1)
        edge = pg.mkPen(colour, width=1.5)
        brush = pg.mkBrush(colour)
        self.sig_up = pg.ScatterPlotItem(symbol="t1", size=SIGNAL_SIZE, pen=dark, brush=brush, pxMode=True)
        self.sig_down = pg.ScatterPlotItem(symbol="t", size=SIGNAL_SIZE, pen=dark, brush=brush, pxMode=True)
        self.fill_buy = pg.ScatterPlotItem(
            symbol="o", size=FILL_SIZE, pen=edge, brush=pg.mkBrush(theme.BID), pxMode=True
        )
        self.fill_sell = pg.ScatterPlotItem(
            symbol="o", size=FILL_SIZE, pen=edge, brush=pg.mkBrush(theme.ASK), pxMode=True
        )
        self.lines: dict[str, pg.PlotCurveItem] = {}
        self.drawn: dict[str, tuple[object, ...]] = {}  # what each item shows: skip equal redraws
        self.colour = colour
        self.plot = plot
        for item in self.scatters():
            item.setZValue(Z_MARKERS)
            plot.addItem(item, ignoreBounds=True)

    def scatters(self) -> tuple[pg.ScatterPlotItem, ...]:
        return (self.sig_up, self.sig_down, self.fill_buy, self.fill_sell)

    def line(self, name: str) -> pg.PlotCurveItem:
        item = self.lines.get(name)
        if item is None:
            style = (Qt.PenStyle.DashLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine)[len(self.lines) % 3]
            item = self.lines[name] = pg.PlotCurveItem(pen=pg.mkPen(self.colour, width=1.3, style=style))
            item.setZValue(Z_MARKERS - 1)
            self.plot.addItem(item, ignoreBounds=True)
        return item

    def remove(self) -> None:
        for item in (*self.scatters(), *self.lines.values()):
            self.plot.removeItem(item)


class ChartOverlay(QObject):
    def __init__(self, store: StrategyStore, data: StrategyData, price_plot: pg.PlotItem) -> None:
        super().__init__()
        self.store = store
        self.data = data
        self.plot = price_plot
        self.visible = True
        self._marks: dict[int, _Marks] = {}
        self._drawn: tuple[object, ...] = ()
        self._now = math.nan
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self.redraw)
        price_plot.getViewBox().sigXRangeChanged.connect(self._timer.start)
        store.structure_changed.connect(self._sync)
        store.removed.connect(self._remove)

    def marks(self, sid: int) -> _Marks | None:
        return self._marks.get(sid)

    def set_visible(self, on: bool) -> None:
        self.visible = on
        for marks in self._marks.values():
            for item in (*marks.scatters(), *marks.lines.values()):
                item.setVisible(on)
        self._drawn = ()
        self.redraw()

    def _sync(self) -> None:
        for sid in self.store.ids():
            colour = self.store.colour(sid).name()
            marks = self._marks.get(sid)
            if marks is not None and marks.colour != colour:
                marks.remove()
                marks = None
            if marks is None:
                self._marks[sid] = _Marks(self.plot, colour)
                for item in self._marks[sid].scatters():
                    item.setVisible(self.visible)
        self._drawn = ()

    def _remove(self, ids: list[int]) -> None:
        for sid in ids:
            marks = self._marks.pop(sid, None)
            if marks is not None:
                marks.remove()

    def apply_frame(self, now_us: int) -> None:
        self._now = now_us / 1e6
        self.redraw()

    def redraw(self) -> None:
        self._timer.stop()
        if not self.visible:
            return
        vb = self.plot.getViewBox()
        (x0, x1), _ = vb.viewRange()
        key = (self.data.version, x0, x1, len(self._marks), self._now)
        if key == self._drawn:
            return
        self._drawn = key
        lo, hi = x0 * 1e6, x1 * 1e6
        bins = max(100, int(vb.width()) // 2)
        for sid, marks in self._marks.items():
            self._draw_signals(marks, self.data.signals.find(sid), lo, hi)
            self._draw_fills(marks, self.data.fills.find(sid), lo, hi)
            for name in self.data.plot_names(sid):
                if self.data.router.decided(sid, name):
                    self._draw_line(marks, name, self.data.plots.find(sid, name), lo, hi, bins)

    @staticmethod
    def _visible(
        marks: _Marks, kind: str, cols: GrowingColumns | None, lo: float, hi: float
    ) -> tuple[np.ndarray, slice] | None:
        """The visible rows of ``cols`` (thinned), or None when the items already show them."""
        if cols is None or not len(cols):
            key: tuple[object, ...] = ("empty",)
            ts, sl = np.empty(0, dtype=np.int64), slice(0, 0)
        else:
            ts = cols.column("ts")
            i0 = int(np.searchsorted(ts, lo, side="left"))
            i1 = int(np.searchsorted(ts, hi, side="right"))
            sl = thin(slice(i0, i1))
            key = (id(cols), cols.stamp, sl.start, sl.stop, sl.step)
        if marks.drawn.get(kind) == key:
            return None
        marks.drawn[kind] = key
        return ts, sl

    def _draw_signals(self, marks: _Marks, cols: GrowingColumns | None, lo: float, hi: float) -> None:
        found = self._visible(marks, "signals", cols, lo, hi)
        if found is None:
            return
        if cols is None or not len(cols):
            marks.sig_up.setData([], [])
            marks.sig_down.setData([], [])
            return
        ts, sl = found
        x, y, s = ts[sl] / 1e6, cols.column("price")[sl], cols.column("strength")[sl]
        ok = np.isfinite(y)
        up, down = ok & (s >= 0), ok & (s < 0)
        marks.sig_up.setData(x[up], y[up])
        marks.sig_down.setData(x[down], y[down])

    def _draw_fills(self, marks: _Marks, cols: GrowingColumns | None, lo: float, hi: float) -> None:
        found = self._visible(marks, "fills", cols, lo, hi)
        if found is None:
            return
        if cols is None or not len(cols):
            marks.fill_buy.setData([], [])
            marks.fill_sell.setData([], [])
            return
        ts, sl = found
        x, y, side = ts[sl] / 1e6, cols.column("price")[sl], cols.column("side")[sl]
        buy = side > 0
        marks.fill_buy.setData(x[buy], y[buy])
        marks.fill_sell.setData(x[~buy], y[~buy])

    def _draw_line(
        self, marks: _Marks, name: str, cols: GrowingColumns | None, lo: float, hi: float, bins: int
    ) -> None:
        item = marks.line(name)
        if cols is None or not len(cols):
            item.setData([], [])
            return
        ts = cols.column("ts")
        sl = visible_slice(ts, lo, hi)
        key = (id(cols), cols.stamp, sl.start, sl.stop, bins, self._now)
        if marks.drawn.get(f"line:{name}") == key:
            return
        marks.drawn[f"line:{name}"] = key
        x, (v,) = decimate_minmax(ts[sl] / 1e6, [cols.column("value")[sl]], bins)
        until = self._now if math.isfinite(self._now) else None
        item.setData(*step_xy(x, v, until))
