"""Trades on the liquidity heatmap as volume bubbles (Bookmap style).

Each print is a circle at its time and price: area proportional to its size (the largest print
in view gets ``MAX_DIAMETER_PX``), green for aggressive buys, red for sells, grey for unknown.
Prints below the large-lot filter (``min_size``) are not drawn. Prints at the same column,
price and side are merged first, so a burst of fills of one order is one bubble. The overlay
follows the heatmap's own columns (it clears when the heatmap does: after an open or a seek).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QStyleOptionGraphicsItem, QWidget

from replayterm.core.frames import Frame
from replayterm.qt import theme
from replayterm.qt.compat import paint_guard
from replayterm.qt.models.column_buffer import ColumnBuffer
from replayterm.qt.views.heatmap import HeatmapView

MAX_DIAMETER_PX = 34.0
MIN_DIAMETER_PX = 3.0
CAPACITY = 200_000
MAX_BUBBLES = 2500


class BubblesItem(pg.GraphicsObject):
    def __init__(self) -> None:
        super().__init__()
        self.x = self.y = self.d = np.empty(0)
        self.side = np.empty(0, dtype=np.int8)
        self._rect = QRectF()

    def set_data(self, x: np.ndarray, y: np.ndarray, diameter_px: np.ndarray, side: np.ndarray) -> None:
        self.prepareGeometryChange()
        self.x, self.y, self.d, self.side = x, y, diameter_px, side
        if len(x):
            self._rect = QRectF(
                float(x.min()) - 1,
                float(y.min()) - 1,
                float(x.max() - x.min()) + 2,
                float(y.max() - y.min()) + 2,
            )
        else:
            self._rect = QRectF()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: tuple[float, float] | None = None) -> object:  # noqa: N803
        return (None, None)

    @paint_guard
    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if not len(self.x):
            return
        tr = p.transform()
        p.save()
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        colors = {1: theme.BID, -1: theme.ASK, 0: theme.NEUTRAL}
        order = np.argsort(-self.d)  # big ones first, small ones stay visible on top
        # The view maps data to pixels by scale and offset only, so every centre is mapped at once
        # (one QTransform.map per bubble was most of this paint's cost).
        px = tr.m11() * self.x + tr.m21() * self.y + tr.dx()
        py = tr.m12() * self.x + tr.m22() * self.y + tr.dy()
        for s, hex_color in colors.items():
            sel = order[self.side[order] == s]
            if not sel.size:
                continue
            fill = theme.qcolor(hex_color, 120)
            pen = QPen(theme.qcolor(hex_color, 230))
            pen.setWidthF(1.0)
            p.setPen(pen)
            p.setBrush(fill)
            r = self.d[sel] / 2
            for cx, cy, ri in zip(px[sel].tolist(), py[sel].tolist(), r.tolist(), strict=True):
                p.drawEllipse(QPointF(cx, cy), ri, ri)
        p.restore()


class TradeBubbles:
    """Attach volume bubbles and a large-lot filter to a ``HeatmapView``."""

    def __init__(self, heatmap: HeatmapView) -> None:
        self.heatmap = heatmap
        self.trades = ColumnBuffer(
            CAPACITY, {"t": np.int64, "price": np.float64, "amount": np.float64, "side": np.int8}
        )
        self.item = BubblesItem()
        heatmap.plot.getPlotItem().addItem(self.item)
        self.min_size = QDoubleSpinBox(heatmap)
        self.min_size.setDecimals(3)
        self.min_size.setRange(0.0, 1e9)
        self.min_size.setToolTip("Large-lot filter: draw only prints of at least this size")
        self.min_size.valueChanged.connect(lambda _v: self.redraw())
        outer = heatmap.layout()
        first = outer.itemAt(0) if outer is not None else None
        bar = first.layout() if first is not None else None
        if isinstance(bar, QHBoxLayout):  # the heatmap's toolbar row
            bar.insertWidget(4, QLabel("Bubbles ≥", heatmap))
            bar.insertWidget(5, self.min_size)
        self._cleared_at = -1

    def apply_frame(self, frame: Frame) -> None:
        hm = self.heatmap
        if frame.reset:
            self.trades.clear()
        tr = frame.trades
        if len(tr):
            self.trades.append(t=tr.local_ts, price=tr.price, amount=tr.amount, side=tr.side)
        if hm.filled == 0:
            self.item.set_data(np.empty(0), np.empty(0), np.empty(0), np.empty(0, dtype=np.int8))
            return
        self.redraw()

    def redraw(self) -> None:
        hm = self.heatmap
        newest = hm.newest_ts()
        if newest is None or not len(self.trades):
            self.item.set_data(np.empty(0), np.empty(0), np.empty(0), np.empty(0, dtype=np.int8))
            return
        first = newest - (hm.filled - 1) * hm.column_us
        t = self.trades.column("t")
        lo = int(np.searchsorted(t, first, side="left"))
        t = t[lo:]
        price = self.trades.column("price")[lo:]
        amount = self.trades.column("amount")[lo:]
        side = self.trades.column("side")[lo:]
        col = (t - first) // hm.column_us
        x, y, size, s = merge_prints(col, price, amount, side)
        keep = size >= self.min_size.value()
        x, y, size, s = x[keep], y[keep], size[keep], s[keep]
        if len(size) > MAX_BUBBLES:
            top = np.argpartition(-size, MAX_BUBBLES)[:MAX_BUBBLES]
            x, y, size, s = x[top], y[top], size[top], s[top]
        xs = hm.x_at(first) + x + 0.5
        self.item.set_data(xs, y, diameters(size), s)


def merge_prints(
    col: np.ndarray, price: np.ndarray, amount: np.ndarray, side: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Sum the prints sharing a column, price and side."""
    if not len(col):
        return (np.empty(0), np.empty(0), np.empty(0), np.empty(0, dtype=np.int8))
    keys = np.stack([col.astype(np.float64), price, side.astype(np.float64)], axis=1)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    sizes = np.bincount(inverse.ravel(), weights=amount, minlength=len(uniq))
    return uniq[:, 0], uniq[:, 1], sizes, uniq[:, 2].astype(np.int8)


def diameters(size: np.ndarray) -> np.ndarray:
    """Pixel diameters with area proportional to size (the largest gets ``MAX_DIAMETER_PX``)."""
    if not len(size):
        return size
    top = float(size.max()) or 1.0
    d = MAX_DIAMETER_PX * np.sqrt(size / top)
    return np.maximum(d, MIN_DIAMETER_PX)
