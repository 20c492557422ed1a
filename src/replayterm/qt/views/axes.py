"""Plot axes that cost little to redraw, for plots whose range moves every frame.

pyqtgraph's ``AxisItem`` rebuilds its tick layout whenever its range changes, and a followed
chart changes range on every frame. ``LeanAxisMixin`` produces the same layout (same ticks, same
labels, same label-density rules) with less work: tick values are memoized per range and length
(the plot's grid asks for the same ones), tick positions are computed with numpy, label sizes come
from a per-axis cache instead of a text layout per label, and the SI-prefix relabelling (a rich-text
relayout on every range change) is off.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPicture

_ALIGN = {
    "left": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
    "right": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
    "top": Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
    "bottom": Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
}
_MAX_CACHED_LABELS = 4096
_DRAWN_ONCE: Any = object()  # stands in for the picture: a layout drawn directly, not recorded yet


class LeanAxisMixin:
    """Mix in before ``pg.AxisItem`` (or a subclass such as ``pg.DateAxisItem``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tick_key: tuple[float, float, float] | None = None
        self._ticks: list[tuple[float, list[float]]] = []
        self._tick_state: tuple[Any, Any] = (None, None)
        self._label_sizes: dict[str, tuple[float, float]] = {}
        self._length_px = 0.0
        self._specs: Any = None
        self.enableAutoSIPrefix(False)  # type: ignore[attr-defined]

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:  # noqa: N803
        key = (minVal, maxVal, size)
        if key != self._tick_key:
            self._ticks = self._tick_values(minVal, maxVal, size)
            self._tick_key = key
            # DateAxisItem picks its label format while computing ticks: keep it with them
            self._tick_state = getattr(self, "zoomLevel", None), getattr(self, "minSpacing", None)
        elif self._tick_state[0] is not None:
            self.zoomLevel, self.minSpacing = self._tick_state
        return self._ticks

    def _tick_values(self, lo: float, hi: float, size: float) -> list[tuple[float, list[float]]]:
        return super().tickValues(lo, hi, size)  # type: ignore[misc]

    def grid_ticks(self, lo: float, hi: float) -> list[tuple[float, list[float]]]:
        """The tick levels this axis draws for the range [lo, hi] (empty before its first paint)."""
        if self._length_px <= 0:
            return []
        return self.tickValues(lo, hi, self._length_px)

    def _label_size(self, p: QPainter, text: str) -> tuple[float, float]:
        size = self._label_sizes.get(text)
        if size is None:
            if len(self._label_sizes) > _MAX_CACHED_LABELS:
                self._label_sizes.clear()
            br = p.boundingRect(QRectF(0, 0, 100, 100), Qt.AlignmentFlag.AlignCenter, text)
            size = self._label_sizes[text] = (br.width(), br.height() * 0.8)
        return size

    def paint(self, p: QPainter, opt: Any, widget: Any) -> None:
        """Draw a fresh layout straight away; record it for replay only once it is reused.

        ``AxisItem`` records every layout into a QPicture and replays it. On a followed chart the
        layout changes every frame, so the recording would be replayed once and thrown away.
        """
        ax: Any = self
        if ax.picture is None:
            p.save()
            try:
                if ax.style["tickFont"] is not None:
                    p.setFont(ax.style["tickFont"])
                self._specs = self.generateDrawSpecs(p)
                if self._specs is not None:
                    ax.drawPicture(p, *self._specs)
            finally:
                p.restore()
            ax.picture = _DRAWN_ONCE
        elif ax.picture is _DRAWN_ONCE:
            picture = QPicture()
            painter = QPainter(picture)
            try:
                if ax.style["tickFont"] is not None:
                    painter.setFont(ax.style["tickFont"])
                if self._specs is not None:
                    ax.drawPicture(painter, *self._specs)
            finally:
                painter.end()
            ax.picture = picture
            picture.play(p)
        else:
            ax.picture.play(p)

    def setStyle(self, **kwargs: Any) -> None:
        super().setStyle(**kwargs)  # type: ignore[misc]
        self._label_sizes = {}

    def generateDrawSpecs(self, p: QPainter) -> Any:
        ax: Any = self
        style = ax.style
        if ax._tickLevels is not None or any(style["stopAxisAtTick"]) or ax.logMode:
            return super().generateDrawSpecs(p)  # type: ignore[misc]
        if style["tickFont"] is not None:
            p.setFont(style["tickFont"])
        ax.fontMetrics = p.fontMetrics()  # DateAxisItem measures its label formats with this
        bounds = ax.mapRectFromParent(ax.geometry())
        view = ax.linkedView()
        tick_bounds = bounds
        if view is not None and ax.grid is not False:
            tick_bounds = view.mapRectToItem(ax, view.boundingRect())
        orientation = ax.orientation
        if orientation == "left":
            span = (bounds.topRight() + QPointF(-1, -1), bounds.bottomRight() + QPointF(-1, 1))
            tick_start, tick_stop, tick_dir, axis = tick_bounds.right(), bounds.right(), -1, 0
        elif orientation == "right":
            span = (bounds.topLeft() + QPointF(1, -1), bounds.bottomLeft() + QPointF(1, 1))
            tick_start, tick_stop, tick_dir, axis = tick_bounds.left(), bounds.left(), 1, 0
        elif orientation == "top":
            span = (bounds.bottomLeft() + QPointF(-1, -1), bounds.bottomRight() + QPointF(1, -1))
            tick_start, tick_stop, tick_dir, axis = tick_bounds.bottom(), bounds.bottom(), -1, 1
        else:
            span = (bounds.topLeft() + QPointF(-1, 1), bounds.topRight() + QPointF(1, 1))
            tick_start, tick_stop, tick_dir, axis = tick_bounds.top(), bounds.top(), 1, 1
        d0, d1 = ax.mapToDevice(span[0]), ax.mapToDevice(span[1])
        if d0 is None or d1 is None:
            return None
        length = math.hypot(d1.x() - d0.x(), d1.y() - d0.y())
        if length == 0:
            return None
        self._length_px = length
        levels = self.tickValues(ax.range[0], ax.range[1], length)

        dif = ax.range[1] - ax.range[0]
        if dif == 0:
            scale, offset = 1.0, 0.0
        elif axis == 0:
            scale = -bounds.height() / dif
            offset = ax.range[0] * scale - bounds.height()
        else:
            scale = bounds.width() / dif
            offset = ax.range[0] * scale
        ends = [r * scale - offset for r in ax.range]
        lo_px, hi_px = min(ends), max(ends)

        tick_specs: list[tuple[QPen, QPointF, QPointF]] = []
        positions: list[np.ndarray] = []
        for i, (_spacing, values) in enumerate(levels):
            x = np.asarray(values, dtype=np.float64) * scale - offset
            x[(x < lo_px) | (x > hi_px)] = np.nan
            positions.append(x)
            pen = self._tick_pen(i, length, len(values))
            end = tick_stop
            if ax.grid is False:
                end += style["tickLength"] / (i * 0.5 + 1.0) * tick_dir
            for v in x[np.isfinite(x)].tolist():
                if axis == 0:
                    tick_specs.append((pen, QPointF(tick_start, v), QPointF(end, v)))
                else:
                    tick_specs.append((pen, QPointF(v, tick_start), QPointF(v, end)))
        axis_spec = (ax.pen(), span[0], span[1])

        text_specs: list[tuple[QRectF, Any, str]] = []
        if not style["showValues"]:
            return axis_spec, tick_specs, text_specs
        text_offset = style["tickTextOffset"][axis]
        offset_px = max(0, style["tickLength"]) + text_offset
        flags = _ALIGN[orientation] | Qt.TextFlag.TextDontClip
        br = ax.boundingRect()
        fill_total = 0.0  # summed label extent along the axis, all levels so far
        text_size2 = last_text_size2 = 0.0  # widest label across the axis, all levels so far
        for i in range(min(len(levels), style["maxTextLevel"] + 1)):
            spacing, values = levels[i]
            strings = ax.tickStrings(values, ax.autoSIPrefixScale * ax.scale, spacing)
            if not strings:
                continue
            x = positions[i]
            shown = [(float(x[j]), s, self._label_size(p, s)) for j, s in enumerate(strings) if x[j] == x[j]]
            if shown:
                along = [sz[1] if axis == 0 else sz[0] for _, _, sz in shown]
                across = [sz[0] if axis == 0 else sz[1] for _, _, sz in shown]
                fill_total += float(np.sum(along))
                text_size2 = max(text_size2, max(across))
            if i > 0:  # the first level is always labelled
                ratio = fill_total / length
                if any(len(text_specs) >= n and ratio >= limit for n, limit in style["textFillLimits"]):
                    break
            last_text_size2 = text_size2
            for pos, s, (w, h) in shown:
                if orientation == "left":
                    rect = QRectF(tick_stop - offset_px - w, pos - h / 2, w, h)
                elif orientation == "right":
                    rect = QRectF(tick_stop + offset_px, pos - h / 2, w, h)
                elif orientation == "top":
                    rect = QRectF(pos - w / 2.0, tick_stop - offset_px - h, w, h)
                else:
                    rect = QRectF(pos - w / 2.0, tick_stop + offset_px, w, h)
                if br.contains(rect):
                    text_specs.append((rect, flags, s))
        ax._updateMaxTextSize(last_text_size2)
        return axis_spec, tick_specs, text_specs

    def _tick_pen(self, level: int, length: float, count: int) -> QPen:
        ax: Any = self
        alpha = ax.style["tickAlpha"]
        if alpha is None:
            alpha = 255 / (level + 1)
            if ax.grid is not False:
                alpha *= ax.grid / 255.0 * min(max(0.05 * length / (count + 1), 0.0), 1.0)
        elif isinstance(alpha, float):
            alpha = min(255, max(0, round(alpha * 255)))
        pen = ax.tickPen()
        if pen.brush().style() == Qt.BrushStyle.SolidPattern:
            pen = QPen(pen)
            color = QColor(pen.color())
            color.setAlpha(int(alpha))
            pen.setColor(color)
        return pen


class LeanAxis(LeanAxisMixin, pg.AxisItem):
    def _tick_values(self, lo: float, hi: float, size: float) -> list[tuple[float, list[float]]]:
        """``AxisItem.tickValues`` with the duplicate test done in one array expression."""
        if self.logMode:
            return super()._tick_values(lo, hi, size)
        lo, hi = sorted((lo, hi))
        lo, hi = lo * self.scale, hi * self.scale
        ticks: list[tuple[float, list[float]]] = []
        taken = np.empty(0)
        for spacing, offset in self.tickSpacing(lo, hi, size):
            start = math.ceil((lo - offset) / spacing) * spacing + offset
            num = int((hi - start) / spacing) + 1
            values = (np.arange(num) * spacing + start) / self.scale
            if taken.size:  # drop the ticks a coarser level already has
                values = values[~(np.abs(taken - values[:, None]) <= spacing / self.scale * 0.01).any(axis=1)]
            taken = np.concatenate([taken, values])
            ticks.append((spacing / self.scale, values.tolist()))
        return ticks

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        """Every label with the decimals the spacing needs. pyqtgraph switches to ``%g`` from
        10000 up, which at narrow price ranges printed ``63944, 63944, 63943.9``."""
        strings = list(super().tickStrings(values, scale, spacing))
        step = abs(spacing * scale)
        if self.logMode or step <= 0:
            return strings
        places = max(0, math.ceil(-math.log10(step) - 1e-9))
        return [
            f"{v * scale:.{places}f}" if abs(v * scale) >= 10000 else s
            for v, s in zip(values, strings, strict=True)
        ]


class LeanDateAxis(LeanAxisMixin, pg.DateAxisItem):
    pass
