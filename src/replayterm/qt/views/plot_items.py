"""Lean pyqtgraph items for per-frame updates from numpy arrays, and ``settle_scene``.

``DotsItem`` draws trade markers from a prebuilt sprite atlas with one
``drawPixmapFragments`` call; unlike ``ScatterPlotItem`` it keeps no per-point Python
bookkeeping, so ``set_data`` costs O(1) Python whatever the number of dots.
``BandItem`` fills between two series (best bid / best ask) with one path built by
``arrayToQPath``; ``FillBetweenItem`` rebuilds polygons point by point on every curve change.
``CurveItem`` is a bare polyline, ``GridItem`` draws a plot's grid at its axes' ticks,
``CursorLine`` the replay clock.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.Qt import internals
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from replayterm.qt import theme
from replayterm.qt.compat import paint_guard

SIZES = np.arange(2, 19)  # marker diameters in px, one atlas column each
_CELL = 22


def _atlas(colors: list[tuple[str, int, int]]) -> QPixmap:
    pm = QPixmap(_CELL * len(SIZES), _CELL * len(colors))
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    for row, (color, fill_alpha, line_alpha) in enumerate(colors):
        p.setBrush(theme.qcolor(color, fill_alpha))
        p.setPen(theme.qcolor(color, line_alpha))
        for col, d in enumerate(SIZES):
            c = QPointF(col * _CELL + _CELL / 2, row * _CELL + _CELL / 2)
            p.drawEllipse(c, d / 2, d / 2)
    p.end()
    return pm


class DotsItem(pg.GraphicsObject):
    """Constant-pixel-size markers; ``kind`` selects the colour row of the atlas."""

    def __init__(self, colors: list[tuple[str, int, int]]) -> None:
        super().__init__()
        self._pixmap = _atlas(colors)
        self._frags = internals.PrimitiveArray(QPainter.PixmapFragment, 10)
        self._x = self._y = np.empty(0)
        self._src = np.empty((0, 4))
        self._bounds = QRectF()

    def set_data(self, x: np.ndarray, y: np.ndarray, size_px: np.ndarray, kind: np.ndarray) -> None:
        self.prepareGeometryChange()
        self._x = np.asarray(x, dtype=np.float64)
        self._y = np.asarray(y, dtype=np.float64)
        col = np.clip(np.rint(size_px).astype(np.int64) - SIZES[0], 0, len(SIZES) - 1)
        src = np.empty((self._x.shape[0], 4))
        src[:, 0] = col * _CELL
        src[:, 1] = np.asarray(kind, dtype=np.int64) * _CELL
        src[:, 2:] = _CELL
        self._src = src
        if self._x.size:
            self._bounds = QRectF(
                float(self._x.min()),
                float(self._y.min()),
                float(self._x.max() - self._x.min()),
                float(self._y.max() - self._y.min()),
            )
        else:
            self._bounds = QRectF()
        self.update()

    def __len__(self) -> int:
        return int(self._x.shape[0])

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        return self._x, self._y

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: tuple[float, float] | None = None) -> object:  # noqa: N803
        if not self._x.size:
            return None
        vals, other = (self._x, self._y) if ax == 0 else (self._y, self._x)
        if orthoRange is not None:
            vals = vals[(other >= orthoRange[0]) & (other <= orthoRange[1])]
        if not vals.size:
            return None
        return float(vals.min()), float(vals.max())

    def boundingRect(self) -> QRectF:
        if self._bounds.isNull():
            return QRectF()
        pw, ph = self.pixelWidth(), self.pixelHeight()
        pad_x, pad_y = (pw or 0.0) * _CELL, (ph or 0.0) * _CELL
        return self._bounds.adjusted(-pad_x, -pad_y, pad_x, pad_y)

    def viewTransformChanged(self) -> None:
        self.prepareGeometryChange()

    @paint_guard
    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        n = self._x.shape[0]
        if not n:
            return
        t = p.transform()
        px = t.m11() * self._x + t.m21() * self._y + t.dx()
        py = t.m12() * self._x + t.m22() * self._y + t.dy()
        dev = p.device()
        w, h = (dev.width(), dev.height()) if dev is not None else (1e9, 1e9)
        m = (px > -_CELL) & (px < w + _CELL) & (py > -_CELL) & (py < h + _CELL)
        k = int(m.sum())
        if not k:
            return
        self._frags.resize(k)
        f = self._frags.ndarray()
        f[:, 0] = px[m]
        f[:, 1] = py[m]
        f[:, 2:6] = self._src[m]
        f[:, 6:10] = (1.0, 1.0, 0.0, 1.0)
        p.resetTransform()
        p.drawPixmapFragments(*self._frags.drawargs(), self._pixmap)  # type: ignore[call-arg]


class BandItem(pg.GraphicsObject):
    """Filled area between ``lo`` and ``hi`` sampled at the same ``x`` (NaN gaps break it)."""

    def __init__(self, color: QColor) -> None:
        super().__init__()
        self._brush = pg.mkBrush(color)
        self._path = QPainterPath()
        self._rect = QRectF()

    def set_data(self, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
        self.prepareGeometryChange()
        ok = np.isfinite(lo) & np.isfinite(hi)
        if not ok.all():
            x, lo, hi = x[ok], lo[ok], hi[ok]
        if x.size < 2:
            self._path, self._rect = QPainterPath(), QRectF()
        else:
            xs = np.concatenate([x, x[::-1]])
            ys = np.concatenate([lo, hi[::-1]])
            self._path = pg.arrayToQPath(xs, ys, connect="all", finiteCheck=False)
            self._path.closeSubpath()
            self._rect = self._path.boundingRect()
        self.update()

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: tuple[float, float] | None = None) -> object:  # noqa: N803
        return None  # the bid/ask curves drawn on top already define the range

    def boundingRect(self) -> QRectF:
        return self._rect

    @paint_guard
    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self._path.isEmpty():
            return
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self._brush)
        p.drawPath(self._path)


class GridItem(pg.GraphicsObject):
    """Grid at the major ticks of the given axes, in solid 1-px cosmetic lines.

    ``PlotItem.showGrid`` draws its grid inside each axis picture with translucent pens, which
    costs tens of milliseconds per repaint on a large plot; this costs well under one.
    """

    def __init__(self, x_axis: pg.AxisItem | None, y_axis: pg.AxisItem | None, color: str) -> None:
        super().__init__()
        self._axes = (x_axis, y_axis)
        self._pen = pg.mkPen(color, width=0)
        self._pen.setCosmetic(True)
        self.setZValue(-100)

    def boundingRect(self) -> QRectF:
        vb = self.getViewBox()
        return vb.viewRect() if vb is not None else QRectF()

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: tuple[float, float] | None = None) -> object:  # noqa: N803
        return None

    @paint_guard
    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        vb = self.getViewBox()
        if vb is None:
            return
        r = vb.viewRect()
        p.setPen(self._pen)
        x_axis, y_axis = self._axes
        (x0, x1), (y0, y1) = vb.viewRange()
        for axis, lo, hi, size, vertical in (
            (x_axis, x0, x1, vb.width(), True),
            (y_axis, y0, y1, vb.height(), False),
        ):
            if axis is None or (not axis.isVisible() and axis.linkedView() is None):
                continue
            if hasattr(axis, "grid_ticks"):
                levels = axis.grid_ticks(lo, hi)  # the ticks the axis drew (or will draw)
            else:
                try:
                    levels = axis.tickValues(lo, hi, size)
                except AttributeError:
                    # DateAxisItem measures its labels on its first paint; until then it has no ticks
                    continue
            for _spacing, values in levels[:1]:
                if vertical:
                    p.drawLines([QLineF(v, r.top(), v, r.bottom()) for v in values])
                else:
                    p.drawLines([QLineF(r.left(), v, r.right(), v) for v in values])


class CurveItem(pg.GraphicsObject):
    """A polyline (or segment pairs) with a cosmetic pen, rebuilt from numpy arrays each frame.

    ``PlotCurveItem`` re-validates its options on every ``setData`` and derives a pixel-padded
    bounding box through the view transform whenever the view moves; this item keeps the path
    built once per ``setData`` and covers its view (a chart curve spans it anyway). NaN breaks the
    line with ``connect="finite"``.
    """

    def __init__(self, pen: QPen, connect: str = "finite") -> None:
        super().__init__()
        self._pen = QPen(pen)
        self._pen.setCosmetic(True)
        self._connect = connect
        self._x = self._y = np.empty(0)
        self._path = QPainterPath()

    def setData(self, x: np.ndarray, y: np.ndarray) -> None:
        self._x, self._y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        self._path = (
            pg.arrayToQPath(self._x, self._y, connect=self._connect) if self._x.size else QPainterPath()
        )
        self.update()

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        return self._x, self._y

    def boundingRect(self) -> QRectF:
        vb = self.getViewBox()
        return vb.viewRect() if vb is not None else self._path.boundingRect()

    def viewRangeChanged(self) -> None:
        self.prepareGeometryChange()

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: tuple[float, float] | None = None) -> object:  # noqa: N803
        return None

    @paint_guard
    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if not self._path.isEmpty():
            p.setPen(self._pen)
            p.drawPath(self._path)


class CursorLine(pg.GraphicsObject):
    """A vertical line at ``value()`` across the whole view (the replay clock on a chart).

    ``InfiniteLine`` recomputes a rotated, padded bounding rectangle through the view transform
    whenever the line or the view moves; this line just covers the view.
    """

    def __init__(self, pen: QPen) -> None:
        super().__init__()
        self._pen = QPen(pen)
        self._pen.setCosmetic(True)
        self._x = 0.0

    def value(self) -> float:
        return self._x

    def setValue(self, x: float) -> None:
        if x != self._x:
            self._x = float(x)
            self.update()

    def boundingRect(self) -> QRectF:
        vb = self.getViewBox()
        return vb.viewRect() if vb is not None else QRectF()

    def viewRangeChanged(self) -> None:
        self.prepareGeometryChange()

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: tuple[float, float] | None = None) -> object:  # noqa: N803
        return None

    @paint_guard
    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        vb = self.getViewBox()
        if vb is None:
            return
        (x0, x1), (y0, y1) = vb.viewRange()
        if x0 <= self._x <= x1:
            p.setPen(self._pen)
            p.drawLine(QPointF(self._x, y0), QPointF(self._x, y1))


def settle_scene(view: pg.GraphicsView) -> None:
    """Apply the view-range changes of this frame now instead of at the start of the next paint.

    pyqtgraph moves each ViewBox's child transform when painting begins; the scene then finds its
    items moved and schedules a second paint of the plot area. Settling right after the views took
    their frame folds that work into the one paint that follows.
    """
    scene = view.scene()
    if scene is not None:
        scene.prepareForPaint()
