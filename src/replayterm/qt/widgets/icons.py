"""Small vector icons drawn at runtime (crisp at any DPI, themed, no image files needed)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap, QPolygonF

from replayterm.qt import theme

_SIZE = 32


def _icon(draw: Callable[[QPainter, QColor], None], color: str = theme.TEXT) -> QIcon:
    icon = QIcon()
    for mode, c in ((QIcon.Mode.Normal, color), (QIcon.Mode.Disabled, "#4b5260")):
        pm = QPixmap(_SIZE, _SIZE)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(c))
        draw(p, QColor(c))
        p.end()
        icon.addPixmap(pm, mode)
    return icon


def _triangle(p: QPainter, x0: float, x1: float) -> None:
    p.drawPolygon(QPolygonF([QPointF(x0, 6), QPointF(x1, 16), QPointF(x0, 26)]))


def play() -> QIcon:
    return _icon(lambda p, c: _triangle(p, 9, 26), theme.OK)


def pause() -> QIcon:
    def draw(p: QPainter, c: QColor) -> None:
        p.drawRoundedRect(QRectF(8, 6, 6, 20), 1.5, 1.5)
        p.drawRoundedRect(QRectF(18, 6, 6, 20), 1.5, 1.5)

    return _icon(draw, theme.WARN)


def step() -> QIcon:
    def draw(p: QPainter, c: QColor) -> None:
        _triangle(p, 7, 21)
        p.drawRect(QRectF(22, 6, 3.5, 20))

    return _icon(draw)


def step_trade() -> QIcon:
    def draw(p: QPainter, c: QColor) -> None:
        _triangle(p, 4, 17)
        p.drawEllipse(QPointF(24, 16), 5, 5)

    return _icon(draw)


def to_start() -> QIcon:
    def draw(p: QPainter, c: QColor) -> None:
        p.drawRect(QRectF(7, 6, 3.5, 20))
        p.drawPolygon(QPolygonF([QPointF(25, 6), QPointF(11, 16), QPointF(25, 26)]))

    return _icon(draw)


def go_to() -> QIcon:
    def draw(p: QPainter, c: QColor) -> None:
        p.setBrush(Qt.BrushStyle.NoBrush)
        pen = p.pen()
        pen.setStyle(Qt.PenStyle.SolidLine)
        pen.setColor(c)
        pen.setWidthF(2.5)
        p.setPen(pen)
        p.drawEllipse(QPointF(16, 16), 10, 10)
        p.drawLine(QPointF(16, 16), QPointF(16, 9))
        p.drawLine(QPointF(16, 16), QPointF(21, 19))

    return _icon(draw)
