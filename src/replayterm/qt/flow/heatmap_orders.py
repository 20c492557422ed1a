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
        self.fill_marks = pg.ScatterPlotItem(pxMode=True, size=10)
        self.order_marks = pg.ScatterPlotItem(pxMode=True, size=14, symbol="s")
        for item in (self.fill_marks, self.order_marks):
            item.setZValue(40)
            plot.addItem(item, ignoreBounds=True)
        self.ts = np.empty(0, dtype=np.int64)
        self.price = np.empty(0)
        self.side = np.empty(0, dtype=np.int8)
        self.colour: list[str] = []

    def apply_frame(self, frame: Frame) -> None:
        if frame.reset:
            self._clear()
        resting: list[tuple[float, int, str]] = []
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
                self.colour = (self.colour + [info.colour] * len(f))[-MAX_FILLS:]
            resting.extend((o.price, o.side, info.colour) for o in sf.resting)
        self._draw(resting)

    def _clear(self) -> None:
        self.ts = np.empty(0, dtype=np.int64)
        self.price = np.empty(0)
        self.side = np.empty(0, dtype=np.int8)
        self.colour = []

    def _draw(self, resting: list[tuple[float, int, str]]) -> None:
        hm = self.heatmap
        newest = hm.newest_ts()
        if newest is None:
            self.fill_marks.setData([], [])
            self.order_marks.setData([], [])
            return
        first = newest - (hm.filled - 1) * hm.column_us
        keep = self.ts >= first
        xs = [hm.x_at(int(t)) + 0.5 for t in self.ts[keep].tolist()]
        spots = [
            {
                "pos": (x, p),
                "symbol": "t1" if s > 0 else "t",
                "brush": pg.mkBrush(theme.qcolor(c, 230)),
                "pen": pg.mkPen(theme.qcolor(theme.TEXT, 220), width=1),
            }
            for x, p, s, c in zip(
                xs,
                self.price[keep].tolist(),
                self.side[keep].tolist(),
                np.array(self.colour, dtype=object)[keep].tolist(),
                strict=True,
            )
        ]
        self.fill_marks.setData(spots)
        x_now = hm.x_at(newest) + 0.5
        self.order_marks.setData(
            [
                {
                    "pos": (x_now, p),
                    "brush": pg.mkBrush(theme.qcolor(c, 90)),
                    "pen": pg.mkPen(theme.qcolor(theme.BID if s > 0 else theme.ASK), width=2),
                }
                for p, s, c in resting
                if math.isfinite(p)
            ]
        )
