"""pyqtgraph items for the order-flow views, each drawn from numpy arrays in one paint.

``CandlesItem`` (OHLC bodies and wicks, also the CVD candles), ``BarsItem`` (volume under the
candles), ``FootprintItem`` (a bar × price-row grid coloured by delta, with bid×ask text only
where a cell is large enough to read it), ``ProfileItem`` (horizontal volume at price with the
buy/sell split, value area and POC). Items cache nothing per point in Python.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from replayterm.qt import theme
from replayterm.qt.compat import paint_guard

_EMPTY = np.empty(0)


class _ArrayItem(pg.GraphicsObject):
    """Bounds from the arrays it was given; subclasses paint."""

    def __init__(self) -> None:
        super().__init__()
        self._rect = QRectF()

    def _set_bounds(self, x0: float, x1: float, y0: float, y1: float) -> None:
        self.prepareGeometryChange()
        if all(np.isfinite([x0, x1, y0, y1])):
            self._rect = QRectF(x0, y0, max(x1 - x0, 1e-9), max(y1 - y0, 1e-9))
        else:
            self._rect = QRectF()
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange: tuple[float, float] | None = None) -> object:  # noqa: N803
        if self._rect.isNull():
            return (None, None)
        r = self._rect
        return (r.left(), r.right()) if ax == 0 else (r.top(), r.bottom())


class CandlesItem(_ArrayItem):
    """Candles at x = bar start (seconds), width = ``width`` seconds each (a gap of 15 % left)."""

    def __init__(self, up: str = theme.BID, down: str = theme.ASK) -> None:
        super().__init__()
        self.up, self.down = theme.qcolor(up), theme.qcolor(down)
        self.x = self.w = self.o = self.h = self.l = self.c = _EMPTY

    def set_data(
        self, x: np.ndarray, width: np.ndarray, o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray
    ) -> None:
        self.x, self.w, self.o, self.h, self.l, self.c = (
            np.asarray(a, dtype=np.float64) for a in (x, width, o, h, lo, c)
        )
        if len(self.x):
            self._set_bounds(
                float(self.x[0]),
                float((self.x + self.w)[-1]),
                float(np.nanmin(self.l)),
                float(np.nanmax(self.h)),
            )
        else:
            self._set_bounds(np.nan, np.nan, np.nan, np.nan)

    @paint_guard
    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if not len(self.x):
            return
        px = self.pixelLength(pg.Point(1, 0)) or 1.0  # data units per pixel along x
        for rising, color in ((True, self.up), (False, self.down)):
            sel = (self.c >= self.o) == rising
            if not sel.any():
                continue
            pen = QPen(color)
            pen.setCosmetic(True)
            p.setPen(pen)
            p.setBrush(color)
            x, w = self.x[sel], self.w[sel]
            mid = x + w / 2
            for xi, oi, hi, li, ci, wi, mi in zip(
                x, self.o[sel], self.h[sel], self.l[sel], self.c[sel], w, mid, strict=True
            ):
                p.drawLine(QPointF(mi, li), QPointF(mi, hi))
                body = wi * 0.7
                if body / px >= 2:
                    top, bottom = max(oi, ci), min(oi, ci)
                    p.drawRect(QRectF(xi + wi * 0.15, bottom, body, top - bottom))


class BarsItem(_ArrayItem):
    """Vertical bars from 0 (volume, delta), coloured by the sign of ``sign``."""

    def __init__(self) -> None:
        super().__init__()
        self.x = self.w = self.y = self.sign = _EMPTY

    def set_data(self, x: np.ndarray, width: np.ndarray, y: np.ndarray, sign: np.ndarray) -> None:
        self.x, self.w, self.y, self.sign = (np.asarray(a, dtype=np.float64) for a in (x, width, y, sign))
        if len(self.x):
            self._set_bounds(
                float(self.x[0]),
                float((self.x + self.w)[-1]),
                min(0.0, float(self.y.min())),
                float(self.y.max()),
            )
        else:
            self._set_bounds(np.nan, np.nan, np.nan, np.nan)

    @paint_guard
    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        for positive, color in ((True, theme.qcolor(theme.BID, 150)), (False, theme.qcolor(theme.ASK, 150))):
            sel = (self.sign >= 0) == positive
            p.setBrush(color)
            for xi, wi, yi in zip(self.x[sel], self.w[sel], self.y[sel], strict=True):
                p.drawRect(QRectF(xi + wi * 0.15, 0.0, wi * 0.7, yi))


def _blend(delta_share: float, strength: float) -> QColor:
    """Green for buying, red for selling; stronger (less transparent) with more volume."""
    base = theme.qcolor(theme.BID if delta_share >= 0 else theme.ASK)
    base.setAlpha(int(40 + 200 * min(1.0, strength)))
    return base


def _short(v: float) -> str:
    """A size in at most 3 significant digits (1.2k above a thousand), never in exponent form."""
    if v >= 1000:
        return f"{v / 1000:.1f}k"
    if v == 0:
        return "0"
    return str(np.format_float_positional(v, precision=3, unique=True, fractional=False, trim="-"))


class FootprintItem(_ArrayItem):
    """Cells (bar × price row): colour by delta and volume; ``bid × ask`` text where it fits;
    imbalanced sides in bright colour, the POC row outlined."""

    def __init__(self) -> None:
        super().__init__()
        self.font = theme.mono_font(7)
        self._fm = QFontMetricsF(self.font)
        self.x = self.w = self.y = self.h = self.bid = self.ask = _EMPTY
        self.flags = np.empty(0, dtype=np.int64)
        self.poc = np.empty(0, dtype=bool)

    def set_data(self, x, w, y, h, bid, ask, flags, poc) -> None:
        self.x, self.w, self.y, self.h, self.bid, self.ask = (
            np.asarray(a, dtype=np.float64) for a in (x, w, y, h, bid, ask)
        )
        self.flags = np.asarray(flags, dtype=np.int64)
        self.poc = np.asarray(poc, dtype=bool)
        if len(self.x):
            self._set_bounds(
                float(self.x.min()),
                float((self.x + self.w).max()),
                float(self.y.min()),
                float((self.y + self.h).max()),
            )
        else:
            self._set_bounds(np.nan, np.nan, np.nan, np.nan)

    @paint_guard
    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if not len(self.x):
            return
        total = self.bid + self.ask
        scale = float(np.quantile(total, 0.95)) or 1.0
        px_x = self.pixelLength(pg.Point(1, 0)) or 1.0
        px_y = self.pixelLength(pg.Point(0, 1)) or 1.0
        cell_w_px = float(np.median(self.w)) * 0.86 / px_x
        cell_h_px = float(np.median(self.h)) / px_y
        text = cell_h_px >= self._fm.height() * 0.85 and cell_w_px >= self._fm.horizontalAdvance(
            "00.0 x 00.0"
        )
        p.setPen(Qt.PenStyle.NoPen)
        for i in range(len(self.x)):
            share = (self.ask[i] - self.bid[i]) / total[i] if total[i] else 0.0
            p.setBrush(_blend(share, total[i] / scale * (0.35 if text else 1.0)))
            p.drawRect(QRectF(self.x[i] + self.w[i] * 0.07, self.y[i], self.w[i] * 0.86, self.h[i]))
        poc_pen = QPen(theme.qcolor(theme.LAST), 1)
        poc_pen.setCosmetic(True)
        p.setPen(poc_pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        for i in np.flatnonzero(self.poc).tolist():
            p.drawRect(QRectF(self.x[i] + self.w[i] * 0.07, self.y[i], self.w[i] * 0.86, self.h[i]))
        if not text:
            return
        # text in device pixels: the view's y axis is flipped and scaled
        p.save()
        tr = p.transform()
        p.resetTransform()
        p.setFont(self.font)
        normal, dim = theme.qcolor(theme.TEXT), theme.qcolor(theme.DIM)
        buy_hi, sell_hi = theme.qcolor("#5cf2b0"), theme.qcolor("#ff7b80")
        for i in range(len(self.x)):
            rect = tr.mapRect(QRectF(self.x[i] + self.w[i] * 0.07, self.y[i], self.w[i] * 0.86, self.h[i]))
            half = QRectF(rect.left(), rect.top(), rect.width() / 2 - 2, rect.height())
            p.setPen(sell_hi if self.flags[i] & 2 else normal if self.bid[i] else dim)
            p.drawText(half, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, _short(self.bid[i]))
            right = QRectF(rect.center().x() + 2, rect.top(), rect.width() / 2 - 2, rect.height())
            p.setPen(buy_hi if self.flags[i] & 1 else normal if self.ask[i] else dim)
            p.drawText(right, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, _short(self.ask[i]))
        p.restore()


class ProfileItem(_ArrayItem):
    """Volume at price as horizontal bars from x = 0 (sell part, then buy part), value area
    rows brighter, the POC row in the last-price colour."""

    def __init__(self) -> None:
        super().__init__()
        self.y = self.buy = self.sell = _EMPTY
        self.h = 1.0
        self.poc: float | None = None
        self.val: float | None = None
        self.vah: float | None = None

    def set_data(self, y, h, buy, sell, poc, val, vah) -> None:
        self.y, self.buy, self.sell = (np.asarray(a, dtype=np.float64) for a in (y, buy, sell))
        self.h = float(h)
        self.poc, self.val, self.vah = poc, val, vah
        if len(self.y):
            self._set_bounds(
                0.0, float((self.buy + self.sell).max()), float(self.y.min()), float(self.y.max() + self.h)
            )
        else:
            self._set_bounds(np.nan, np.nan, np.nan, np.nan)

    @paint_guard
    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if not len(self.y):
            return
        p.setPen(Qt.PenStyle.NoPen)
        inside = np.ones(len(self.y), dtype=bool)
        if self.val is not None and self.vah is not None:
            inside = (self.y >= self.val - 1e-9) & (self.y <= self.vah + 1e-9)
        for i in range(len(self.y)):
            a = 200 if inside[i] else 90
            if self.poc is not None and abs(self.y[i] - self.poc) < self.h / 2:
                p.setBrush(theme.qcolor(theme.LAST, 230))
                p.drawRect(QRectF(0.0, self.y[i], self.sell[i] + self.buy[i], self.h * 0.9))
                continue
            p.setBrush(theme.qcolor(theme.ASK, a))
            p.drawRect(QRectF(0.0, self.y[i], self.sell[i], self.h * 0.9))
            p.setBrush(theme.qcolor(theme.BID, a))
            p.drawRect(QRectF(self.sell[i], self.y[i], self.buy[i], self.h * 0.9))
