"""Liquidations on the price chart: a triangle per liquidation (up: a short was bought in, down:
a long was sold out), in its own colour, sized by amount, above a size filter."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from replayterm.core.frames import Frame

LIQ_BUY = "#ff9f1c"  # shorts liquidated (the liquidation order buys)
LIQ_SELL = "#d16ba5"  # longs liquidated
MAX_POINTS = 20_000


class LiquidationOverlay:
    def __init__(self, plot: pg.PlotItem) -> None:
        self.scatter = pg.ScatterPlotItem(pxMode=True)
        self.scatter.setZValue(30)
        plot.addItem(self.scatter)
        self.min_size = 0.0
        self._t = np.empty(0)
        self._p = np.empty(0)
        self._a = np.empty(0)
        self._s = np.empty(0, dtype=np.int8)

    def set_min_size(self, value: float) -> None:
        self.min_size = max(0.0, float(value))
        self._draw()

    def apply_frame(self, frame: Frame) -> None:
        liq = frame.liquidations
        if frame.reset:
            self._t, self._p, self._a = np.empty(0), np.empty(0), np.empty(0)
            self._s = np.empty(0, dtype=np.int8)
        if len(liq):
            self._t = np.concatenate([self._t, liq.local_ts / 1e6])[-MAX_POINTS:]
            self._p = np.concatenate([self._p, liq.price])[-MAX_POINTS:]
            self._a = np.concatenate([self._a, liq.amount])[-MAX_POINTS:]
            self._s = np.concatenate([self._s, liq.side.astype(np.int8)])[-MAX_POINTS:]
        if frame.reset or len(liq):
            self._draw()

    def points(self) -> int:
        return int(np.count_nonzero(self._a >= self.min_size))

    def _draw(self) -> None:
        keep = self._a >= self.min_size
        if not keep.any():
            self.scatter.setData([], [])
            return
        t, p, a, s = self._t[keep], self._p[keep], self._a[keep], self._s[keep]
        top = max(float(a.max()), 1e-12)
        sizes = 9 + 14 * np.sqrt(a / top)
        brushes = [pg.mkBrush(LIQ_BUY if side > 0 else LIQ_SELL) for side in s]
        symbols = ["t1" if side > 0 else "t" for side in s]  # t1: up triangle, t: down
        self.scatter.setData(
            x=t, y=p, size=sizes, brush=brushes, symbol=symbols, pen=pg.mkPen("#101318", width=1)
        )
