"""Liquidity heatmap (Bookmap style): resting size by price (rows) and time (columns).

History is a fixed ring of ``columns`` × ``rows`` opaque 32-bit pixels (``QImage.Format_RGB32``,
the layout the raster painter scales without converting). Each frame whose clock moved
colours ONE new column (log-scaled sizes through a lookup table) and writes it at the ring head;
nothing already drawn is recomputed. ``RingImageItem`` blits the ring in two pieces (oldest part,
then newest part) straight from the numpy buffer, so there is no per-frame unrolling or
conversion of the whole image (``pg.ImageItem.setImage`` would re-convert all W×H pixels every
frame). Two windows follow the mid, both recentering only when it leaves their middle half: the
view (``view_rows`` rows on screen: the axis just moves) and the buffer (``rows`` rows, a few times
taller, so history survives the price wandering off and coming back; its rows shift, rarely).
Columns sit on a real time axis, as in Bookmap: each is a fixed slice of replay time
(``column_us`` = the chosen span / ``columns``). A frame overwrites the column of its slice with
the book as it stands; a frame several slices after the previous one first copies the previous
column into the slices between (the liquidity rested there all along), so equal widths are equal
times at any replay speed and frame rate. The axis labels each column with its slice's start.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSettings
from PySide6.QtGui import QImage, QPainter, QTransform
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QStyleOptionGraphicsItem, QVBoxLayout, QWidget

from replayterm.core.frames import Frame
from replayterm.qt import settings as st
from replayterm.qt import theme
from replayterm.qt.compat import paint_guard
from replayterm.qt.models.plot_data import quantile
from replayterm.qt.numfmt import format_size, price_decimals
from replayterm.qt.timefmt import format_time_of_day
from replayterm.qt.views.axes import LeanAxis
from replayterm.qt.views.plot_items import CurveItem, settle_scene
from replayterm.qt.widgets.empty_state import EmptyState

COLUMNS = 1200
ROWS = 1024  # price rows kept
VIEW_ROWS = 400  # price rows on screen
MIN_VISIBLE = 300
SPANS = (("10 s", 10), ("1 min", 60), ("5 min", 300), ("30 min", 1800), ("2 h", 7200))  # seconds
DEFAULT_SPAN_S = 300
GROUPINGS = (1, 2, 5, 10, 25, 100)
_NORM_DECAY = 0.97  # weight of the previous colour scale (slow adaptation, old columns untouched)


def heat_lut() -> np.ndarray:
    """256×4 uint8 lookup: near-black → deep blue → cyan → yellow → white."""
    cmap = pg.ColorMap(
        [0.0, 0.12, 0.35, 0.6, 0.82, 1.0],
        [
            (16, 19, 24),
            (18, 38, 92),
            (20, 110, 170),
            (60, 200, 190),
            (245, 215, 70),
            (255, 255, 240),
        ],
    )
    return cmap.getLookupTable(0.0, 1.0, 256, alpha=True).astype(np.uint8)


def rgb32(rgba: np.ndarray) -> np.ndarray:
    """RGBA rows (uint8) as ``0xffRRGGBB`` uint32 pixels (Qt's RGB32)."""
    c = rgba.astype(np.uint32)
    return (0xFF << 24) | (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]


class RingImageItem(pg.GraphicsObject):
    """Draws a (rows, columns) RGB32 ring buffer with the oldest column on the left.

    Item coordinates: x = display column (0 … columns), y = row (0 … rows); the owner maps rows
    to prices with the item transform.
    """

    def __init__(self, pixels: np.ndarray) -> None:
        super().__init__()
        self._pixels = pixels
        rows, cols = pixels.shape
        self._image = pg.functions.ndarray_to_qimage(
            pixels.view(np.uint8).reshape(rows, cols, 4), QImage.Format.Format_RGB32
        )
        self.head = 0  # ring index of the oldest column

    def boundingRect(self) -> QRectF:
        rows, cols = self._pixels.shape
        return QRectF(0.0, 0.0, float(cols), float(rows))

    @paint_guard
    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        rows, cols = self._pixels.shape
        h, tail = self.head, cols - self.head
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        if tail:
            painter.drawImage(QRectF(0, 0, tail, rows), self._image, QRectF(h, 0, tail, rows))
        if h:
            painter.drawImage(QRectF(tail, 0, h, rows), self._image, QRectF(0, 0, h, rows))


class _ColumnTimeAxis(LeanAxis):
    """Bottom axis of the heatmap: ticks at round UTC times on the columns' linear time scale.

    The x range stays put once the ring is full while the time under it moves, so after each
    new column the axis checks whether its ticks moved by a pixel or a label would now read
    differently, and redraws only then.
    """

    STEPS_S = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200)
    LABEL_PX = 110  # room one label needs

    def __init__(self, owner: HeatmapView) -> None:
        super().__init__("bottom")
        self._owner = owner
        self._labels: dict[float, str] = {}  # the labels of the last layout, by tick value
        self._drawn_newest: int | None = None  # the newest column's time at the last layout

    def generateDrawSpecs(self, p: QPainter) -> object:
        self._labels = {}
        self._drawn_newest = self._owner.newest_ts()
        return super().generateDrawSpecs(p)

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:  # noqa: N803
        owner = self._owner
        lo, hi = sorted((minVal, maxVal))
        t_lo, t_hi = owner.time_at(lo), owner.time_at(hi)
        if t_lo is None or t_hi is None or size <= 0 or t_hi <= t_lo:
            return []
        fits = max(1.0, size / self.LABEL_PX)
        step_s = next((s for s in self.STEPS_S if (t_hi - t_lo) / (s * 1e6) <= fits), self.STEPS_S[-1])
        step = step_s * 1_000_000
        first = -(-int(t_lo) // step) * step
        values = [owner.x_at(t) for t in range(first, int(t_hi) + 1, step)]
        return [(step / owner.column_us, values)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        labels = [self._owner.column_label(v) for v in values]
        self._labels.update(zip(values, labels, strict=True))
        return labels

    def refresh_labels(self) -> None:
        owner = self._owner
        newest, drawn = owner.newest_ts(), self._drawn_newest
        shown = max(owner.filled, 1)
        moved_px = 0.0
        if newest is not None and drawn is not None and self._length_px > 0:
            moved_px = abs(newest - drawn) / owner.column_us * self._length_px / shown
        if moved_px >= 1.0 or any(owner.column_label(v) != text for v, text in self._labels.items()):
            self.picture = None
            self.update()


class HeatmapView(QWidget):
    def __init__(
        self,
        parent: QWidget | None = None,
        columns: int = COLUMNS,
        rows: int = ROWS,
        view_rows: int = VIEW_ROWS,
        column_us: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.columns, self.rows, self.view_rows = columns, rows, min(view_rows, rows)
        self.column_us = column_us if column_us is not None else DEFAULT_SPAN_S * 1_000_000 // columns
        self._last_bucket: int | None = None  # time slice of the newest column
        self.levels = np.zeros((rows, columns), dtype=np.float32)  # log1p(size), for tests/tooltips
        # One uint32 per pixel: fills and shifts run at memset/memmove speed (a 4-byte colour
        # assigned to a uint8 (…, 4) view broadcasts, about 50 times slower).
        self.pixels = np.zeros((rows, columns), dtype=np.uint32)
        self.col_ts = np.full(columns, -1, dtype=np.int64)
        self.col_bid = np.full(columns, np.nan)
        self.col_ask = np.full(columns, np.nan)
        self.head = 0  # next ring column to write (== oldest column once full)
        self.filled = 0
        self.columns_written = 0
        self.recenters = 0
        self._lut32 = rgb32(heat_lut())
        self._bg = self._lut32[0]
        self._scale = math.nan  # log-size mapped to the top colour
        self._tick = math.nan
        self._grouping = 1
        self._row0_bucket: int | None = None  # bucket index of row 0
        self._view0_bucket: int | None = None  # bucket index of the lowest row on screen
        self._last_ts: int | None = None
        self._shown = 0
        self.pixels.fill(self._bg)

        self.time_axis = _ColumnTimeAxis(self)
        axes = {"bottom": self.time_axis, "right": LeanAxis("right")}
        self.plot = pg.PlotWidget(parent=self, axisItems=axes)
        self.plot.setBackground(theme.BASE)
        pi = self.plot.getPlotItem()
        pi.setMenuEnabled(False)
        pi.hideButtons()
        pi.hideAxis("left")
        pi.showAxis("right")
        for name in ("right", "bottom"):
            ax = pi.getAxis(name)
            ax.setTextPen(theme.DIM)
            ax.setPen(theme.BORDER)
            ax.setStyle(tickFont=theme.mono_font(8))
        pi.getAxis("right").setWidth(78)
        pi.getAxis("bottom").setHeight(24)  # labels are empty until columns exist: do not collapse
        for hidden in ("left", "top"):  # never shown: they need not follow the view
            pi.getAxis(hidden).unlinkFromView()
        vb = pi.getViewBox()
        vb.setMouseEnabled(x=False, y=False)
        vb.setMenuEnabled(False)
        vb.enableAutoRange(enable=False)
        self.image = RingImageItem(self.pixels)
        pi.addItem(self.image)
        pen_bid = pg.mkPen(theme.BID, width=1)
        pen_ask = pg.mkPen(theme.ASK, width=1)
        self.bid_line = CurveItem(pen_bid)
        self.ask_line = CurveItem(pen_ask)
        pi.addItem(self.bid_line)
        pi.addItem(self.ask_line)

        self.grouping_box = QComboBox(self)
        for g in GROUPINGS:
            self.grouping_box.addItem(f"{g} tick" if g == 1 else f"{g} ticks", g)
        self.grouping_box.setToolTip("Price height of one heatmap row (clears the history)")
        self.grouping_box.currentIndexChanged.connect(
            lambda i: self.set_grouping(self.grouping_box.itemData(i))
        )
        self.span_box = QComboBox(self)
        for label, seconds in SPANS:
            self.span_box.addItem(label, seconds)
        self.span_box.setToolTip(
            "Time across the whole heatmap: each column is this span / its column count (clears the history)"
        )
        self.span_box.setCurrentIndex(max(0, self.span_box.findData(self.span_s)))
        self.span_box.currentIndexChanged.connect(lambda i: self.set_span(self.span_box.itemData(i)))
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 3, 4, 3)
        bar.setSpacing(4)
        bar.addWidget(QLabel("Row", self))
        bar.addWidget(self.grouping_box)
        bar.addWidget(QLabel("Span", self))
        bar.addWidget(self.span_box)
        bar.addStretch(1)
        self.readout = QLabel(self.legend(), self)
        self.readout.setObjectName("dimLabel")
        self.readout.setFont(theme.mono_font(8.5))
        bar.addWidget(self.readout)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        self.stack = EmptyState(self.plot, parent=self)
        layout.addWidget(self.stack, 1)

    # ---- state -------------------------------------------------------------------------------
    @property
    def grouping(self) -> int:
        return self._grouping

    @property
    def bucket(self) -> float:
        return self._tick * self._grouping

    def clear(self) -> None:
        self.levels.fill(0)
        self.pixels.fill(self._bg)
        self.col_ts[:] = -1
        self.col_bid[:] = np.nan
        self.col_ask[:] = np.nan
        self.head = self.filled = 0
        self._scale = math.nan
        self._row0_bucket = None
        self._view0_bucket = None
        self._last_ts = None
        self._last_bucket = None
        self.image.head = 0
        self._update_overlay()
        self._update_x_range()
        self.image.update()

    @property
    def span_s(self) -> float:
        return self.column_us * self.columns / 1e6

    def set_span(self, seconds: float) -> None:
        """Time across the whole ring; each column is ``seconds / columns`` of replay time."""
        column_us = max(1, round(seconds * 1e6 / self.columns))
        if column_us != self.column_us:
            self.column_us = column_us
            self.clear()
            self.readout.setText(self.legend())

    def legend(self) -> str:
        return f"resting size, log scale · 1 column = {_duration(self.column_us)}"

    def set_grouping(self, ticks: int) -> None:
        if ticks != self._grouping:
            self._grouping = int(ticks)
            self.clear()

    def readout_at(self, x: float, price: float) -> str:
        """Time, price and resting size under a point of the plot ("" outside the data)."""
        if not self.filled or self._row0_bucket is None:
            return ""
        col = math.floor(x)
        row = round(price / self.bucket) - self._row0_bucket
        if not (0 <= col < self.columns and 0 <= row < self.rows):
            return ""
        ring = (self.head + col) % self.columns
        ts = int(self.col_ts[ring])
        if ts < 0:
            return ""
        size = float(np.expm1(self.levels[row, ring]))
        p = (self._row0_bucket + row) * self.bucket
        return f"{format_time_of_day(ts)}  {p:,.{price_decimals(self.bucket)}f}  size {format_size(size)}"

    def _on_mouse_moved(self, pos: object) -> None:
        vb = self.plot.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(pos):
            self.readout.setText(self.legend())
            return
        point = vb.mapSceneToView(pos)
        self.readout.setText(self.readout_at(point.x(), point.y()) or self.legend())

    def newest_ts(self) -> int | None:
        """Start of the newest column's time slice (None before the first column)."""
        if not self.filled:
            return None
        return int(self.col_ts[(self.head - 1) % self.columns])

    def time_at(self, x: float) -> float | None:
        """Replay time at display position ``x``: columns are consecutive slices, the newest
        one at x = columns - 1 (its slice starts at its left edge)."""
        newest = self.newest_ts()
        return None if newest is None else newest + (x - (self.columns - 1)) * self.column_us

    def x_at(self, ts: float) -> float:
        newest = self.newest_ts()
        assert newest is not None
        return (self.columns - 1) + (ts - newest) / self.column_us

    def column_label(self, x: float) -> str:
        if not self.filled:
            return ""
        col = math.floor(x)
        if not 0 <= col < self.columns or self.col_ts[(self.head + col) % self.columns] < 0:
            return ""
        t = self.time_at(x)
        return "" if t is None else format_time_of_day(round(t))[:-4]

    def price_window(self) -> tuple[float, float]:
        """Lowest and highest price row centers kept in the buffer."""
        if self._row0_bucket is None:
            return math.nan, math.nan
        lo = self._row0_bucket * self.bucket
        return lo, lo + (self.rows - 1) * self.bucket

    # ---- frames ------------------------------------------------------------------------------
    def apply_frame(self, frame: Frame) -> None:
        self._take_frame(frame)
        self.time_axis.refresh_labels()
        settle_scene(self.plot)

    def _take_frame(self, frame: Frame) -> None:
        if frame.reset:
            self.clear()
        tick = frame.tick_size
        if math.isfinite(tick) and tick > 0 and tick != self._tick:
            self._tick = tick
            self.clear()
        if not (math.isfinite(self._tick) and self._tick > 0):
            return
        if self._last_ts is not None and frame.local_ts == self._last_ts:
            return  # the clock did not move: nothing new to show
        bucket = frame.local_ts // self.column_us
        if self._last_bucket is not None and bucket < self._last_bucket:
            self.clear()  # time went back without a reset: start over
        mid = frame.stats.mid
        if not math.isfinite(mid):
            bb = frame.bids[0, 0] if frame.bids.size else math.nan
            ba = frame.asks[0, 0] if frame.asks.size else math.nan
            mid = bb if math.isfinite(bb) else ba
        if math.isfinite(mid):
            self._keep_centered(mid)
        if self._row0_bucket is None:
            return
        if self._last_bucket is None or bucket > self._last_bucket:
            if self._last_bucket is not None:
                self._carry_forward(self._last_bucket, bucket)
            self._write_column(frame, bucket, new=True)
        else:
            self._write_column(frame, bucket, new=False)  # same slice: its latest state
        self._last_bucket = bucket
        self._last_ts = frame.local_ts
        if self.stack.empty:
            self.stack.set_empty(False)

    def _carry_forward(self, last: int, bucket: int) -> None:
        """Slices after ``last`` and before ``bucket`` had no frame: they show the newest column's
        book (at most a ring's worth, the newest slices)."""
        first = max(last + 1, bucket - (self.columns - 1))
        k = bucket - first
        if k <= 0:
            return
        src = (self.head - 1) % self.columns
        idx = (self.head + np.arange(k)) % self.columns
        self.levels[:, idx] = self.levels[:, src : src + 1]
        self.pixels[:, idx] = self.pixels[:, src : src + 1]
        self.col_ts[idx] = (first + np.arange(k)) * self.column_us
        self.col_bid[idx] = self.col_bid[src]
        self.col_ask[idx] = self.col_ask[src]
        self.head = (self.head + k) % self.columns
        self.filled = min(self.filled + k, self.columns)
        self.columns_written += k

    def _keep_centered(self, mid: float) -> None:
        b = self.bucket
        mid_bucket = round(mid / b)
        if _off_center(mid_bucket, self._row0_bucket, self.rows):
            new_row0 = mid_bucket - self.rows // 2
            if self._row0_bucket is not None:
                self._shift_rows(new_row0 - self._row0_bucket)
                self.recenters += 1
            self._row0_bucket = new_row0
            lo = new_row0 * b
            self.image.setTransform(QTransform.fromScale(1.0, b) * QTransform.fromTranslate(0, lo - b / 2))
        if _off_center(mid_bucket, self._view0_bucket, self.view_rows):
            self._view0_bucket = mid_bucket - self.view_rows // 2
            lo, hi = self.view_window()
            self.plot.getPlotItem().getViewBox().setYRange(lo - b / 2, hi + b / 2, padding=0)

    def view_window(self) -> tuple[float, float]:
        """Lowest and highest price row centers on screen."""
        if self._view0_bucket is None:
            return math.nan, math.nan
        lo = self._view0_bucket * self.bucket
        return lo, lo + (self.view_rows - 1) * self.bucket

    def _shift_rows(self, shift: int) -> None:
        """Move history so row r now shows bucket row0 + shift + r (rows leaving are dropped)."""
        levels, pixels = self.levels, self.pixels
        if abs(shift) >= self.rows:
            levels.fill(0)
            pixels.fill(self._bg)
            return
        if shift > 0:
            levels[:-shift] = levels[shift:]
            pixels[:-shift] = pixels[shift:]
            levels[-shift:] = 0
            pixels[-shift:] = self._bg
        elif shift < 0:
            levels[-shift:] = levels[:shift]
            pixels[-shift:] = pixels[:shift]
            levels[:-shift] = 0
            pixels[:-shift] = self._bg

    def _write_column(self, frame: Frame, time_slice: int, *, new: bool) -> None:
        n, tick, g, row0 = self.rows, self._tick, self._grouping, self._row0_bucket
        assert row0 is not None
        col = np.zeros(n)
        for levels, bucketing in ((frame.bids, np.floor_divide), (frame.asks, None)):
            if not levels.size:
                continue
            ticks = np.rint(levels[:, 0] / tick).astype(np.int64)
            bucket = bucketing(ticks, g) if bucketing is not None else -np.floor_divide(-ticks, g)
            r = bucket - row0
            m = (r >= 0) & (r < n)
            col += np.bincount(r[m], weights=levels[m, 1], minlength=n)[:n]
        v = np.log1p(col).astype(np.float32)
        nz = v[v > 0]
        if nz.size:
            top = quantile(nz, 0.98)
            self._scale = (
                top
                if not math.isfinite(self._scale)
                else (_NORM_DECAY * self._scale + (1 - _NORM_DECAY) * top)
            )
        scale = self._scale if math.isfinite(self._scale) and self._scale > 0 else 1.0
        idx = np.clip(v * (255.0 / scale), 0, 255).astype(np.uint8)
        h = self.head if new else (self.head - 1) % self.columns
        self.levels[:, h] = v
        self.pixels[:, h] = self._lut32[idx]
        self.col_ts[h] = time_slice * self.column_us
        self.col_bid[h] = frame.bids[0, 0] if frame.bids.size else np.nan
        self.col_ask[h] = frame.asks[0, 0] if frame.asks.size else np.nan
        if new:
            self.head = (h + 1) % self.columns
            self.filled = min(self.filled + 1, self.columns)
            self.columns_written += 1
        self.image.head = self.head
        self.image.update()
        self._update_overlay()
        self._update_x_range()

    def _update_x_range(self) -> None:
        """Show the filled columns (at least ``MIN_VISIBLE``) with the newest at the right edge."""
        shown = max(self.filled, min(MIN_VISIBLE, self.columns))
        if shown != self._shown:
            self._shown = shown
            self.plot.getPlotItem().getViewBox().setXRange(self.columns - shown, self.columns, padding=0)

    def _update_overlay(self) -> None:
        order = (self.head + np.arange(self.columns)) % self.columns
        x, bid, ask = step_columns(self.col_bid[order], self.col_ask[order])
        self.bid_line.setData(x, bid)
        self.ask_line.setData(x, ask)

    # ---- reading back ------------------------------------------------------------------------
    def column(self, age: int = 0) -> np.ndarray:
        """log1p(size) per row of the column ``age`` time slices before the newest (0)."""
        return self.levels[:, (self.head - 1 - age) % self.columns]

    def save_settings(self, s: QSettings) -> None:
        s.setValue("heatmap/grouping", self._grouping)
        s.setValue("heatmap/span_s", int(self.span_box.currentData()))

    def load_settings(self, s: QSettings) -> None:
        g = st.value(s, "heatmap/grouping", 1, int)
        if g in GROUPINGS:
            self.grouping_box.setCurrentIndex(GROUPINGS.index(g))
        i = self.span_box.findData(st.value(s, "heatmap/span_s", DEFAULT_SPAN_S, int))
        if i >= 0:
            self.span_box.setCurrentIndex(i)


def _duration(us: int) -> str:
    """``50 ms``, ``1 s``, ``1.5 s``, ``250 µs``: one column's time."""
    if us % 1_000_000 == 0:
        return f"{us // 1_000_000} s"
    if us >= 1_000_000:
        return f"{us / 1e6:g} s"
    if us % 1000 == 0:
        return f"{us // 1000} ms"
    return f"{us} µs"


def _off_center(bucket: int, lo: int | None, size: int) -> bool:
    """True when ``bucket`` lies outside the middle half of the window [lo, lo + size)."""
    return lo is None or not size * 0.25 <= bucket - lo <= size * 0.75


def step_columns(bid: np.ndarray, ask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best bid/ask as steps across display columns (column c spans x in [c, c+1])."""
    n = bid.shape[0]
    x = np.repeat(np.arange(n + 1, dtype=np.float64), 2)[1:-1]
    return x, np.repeat(bid, 2), np.repeat(ask, 2)
