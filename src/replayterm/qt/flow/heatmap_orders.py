"""The strategies' own orders and fills on the liquidity heatmap.

Resting orders are short bars at their price in the newest column (the strategy's colour, a
brighter outline for the manual account); fills are triangles at their time and price (up =
bought, down = sold). Like the heatmap itself they follow the frames and clear on a reset.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from replayterm.core.frames import Frame
from replayterm.core.strategy import StrategyStatus
from replayterm.qt import theme
from replayterm.qt.views.heatmap import HeatmapView

MAX_FILLS = 20_000


class HeatmapOwnOrders:
    def __init__(self, heatmap: HeatmapView) -> None:
        self.heatmap = heatmap
        plot = heatmap.plot.getPlotItem()
        outline = pg.mkPen(theme.qcolor(theme.TEXT, 220), width=1)
        # one item per side with one brush: setData takes arrays, no per-point Python objects
        self.buys = pg.ScatterPlotItem(
            pxMode=True, size=10, symbol="t1", pen=outline, brush=pg.mkBrush(theme.BID)
        )
        self.sells = pg.ScatterPlotItem(
            pxMode=True, size=10, symbol="t", pen=outline, brush=pg.mkBrush(theme.ASK)
        )
        self.orders = pg.ScatterPlotItem(
            pxMode=True, size=14, symbol="s", brush=pg.mkBrush(theme.qcolor(theme.LAST, 70))
        )
        for item in (self.buys, self.sells, self.orders):
            item.setZValue(40)
            plot.addItem(item, ignoreBounds=True)
        self.ts = np.empty(0, dtype=np.int64)
        self.price = np.empty(0)
        self.side = np.empty(0, dtype=np.int8)
        self._drawn: tuple[object, ...] = ()

    def apply_frame(self, frame: Frame) -> None:
        if frame.reset:
            self._clear()
        resting: list[tuple[float, int]] = []
        for sf in getattr(frame, "strategies", ()):
            info = sf.info
            if info.status is not StrategyStatus.ENABLED or (
                frame.symbol and info.instrument != frame.symbol
            ):
                continue
            if sf.reset:
                self._clear()
            f = sf.fills
            if len(f):
                self.ts = np.r_[self.ts, np.asarray(f["ts"], dtype=np.int64)][-MAX_FILLS:]
                self.price = np.r_[self.price, np.asarray(f["price"], dtype=np.float64)][-MAX_FILLS:]
                self.side = np.r_[self.side, np.asarray(f["side"], dtype=np.int8)][-MAX_FILLS:]
            resting.extend((o.price, o.side) for o in sf.resting)
        self._draw(resting)

    def _clear(self) -> None:
        self.ts = np.empty(0, dtype=np.int64)
        self.price = np.empty(0)
        self.side = np.empty(0, dtype=np.int8)
        self._drawn = ()

    def _draw(self, resting: list[tuple[float, int]]) -> None:
        hm = self.heatmap
        newest = hm.newest_ts()
        key = (newest, len(self.ts), tuple(resting))
        if key == self._drawn:
            return  # nothing new: no redraw
        self._drawn = key
        if newest is None:
            for item in (self.buys, self.sells, self.orders):
                item.setData(x=[], y=[])
            return
        first = newest - (hm.filled - 1) * hm.column_us
        keep = self.ts >= first
        x = (hm.columns - 1) + (self.ts[keep] - newest) / hm.column_us + 0.5
        y = self.price[keep]
        side = self.side[keep]
        self.buys.setData(x=x[side > 0], y=y[side > 0])
        self.sells.setData(x=x[side < 0], y=y[side < 0])
        prices = [p for p, _s in resting if math.isfinite(p)]
        self.orders.setData(x=[hm.x_at(newest) + 0.5] * len(prices), y=prices)
