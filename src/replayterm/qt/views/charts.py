"""Price chart (bid/ask band, mid, trades, time cursor) over spread and imbalance sub-charts.

Data sits in bounded column buffers; each frame appends to them and every curve gets one
``setData`` with the visible slice only, decimated to the pixel width, so the cost of a frame
does not grow with the history. X is UTC seconds (µs / 1e6) on a shared, linked time axis.
Follow mode keeps the cursor at the right edge of a fixed window; any manual zoom/pan turns it
off; F (or the button) turns it back on. Double-click a chart to seek there.

Ranges are set here, once per frame, from the arrays just handed to the curves: pyqtgraph's own
auto-range would rescan every item's bounds while painting and, by moving the range there, make
the whole scene paint a second time.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from replayterm.core.book.book import STATS_DEPTH
from replayterm.core.frames import Frame
from replayterm.qt import settings as st
from replayterm.qt import theme
from replayterm.qt.models.column_buffer import ColumnBuffer
from replayterm.qt.models.plot_data import (
    aggregate_prints,
    bars,
    decimate_minmax,
    dot_sizes,
    largest,
    step_xy,
    visible_slice,
)
from replayterm.qt.views.axes import LeanDateAxis
from replayterm.qt.views.chart_plot import add_chart_plot
from replayterm.qt.views.plot_items import BandItem, CursorLine, CurveItem, DotsItem, settle_scene
from replayterm.qt.widgets.empty_state import EmptyState

WINDOWS_S = (5, 10, 30, 60, 300, 900, 3600, 4 * 3600)
DEFAULT_WINDOW_S = 60
SERIES_CAPACITY = 400_000
TRADES_CAPACITY = 200_000
MAX_DOTS = 3000
DOT_BIN_PX = 4  # prints within this many pixels (same side and price) share one marker
Y_PADDING = 0.04  # fraction of the data's height added above and below
_F8 = np.float64


def _window_label(s: int) -> str:
    return f"{s} s" if s < 60 else f"{s // 60} min" if s < 3600 else f"{s // 3600} h"


class ChartsView(QWidget):
    seek_requested = Signal("qint64")  # type: ignore[arg-type]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.series = ColumnBuffer(
            SERIES_CAPACITY, {"t": _F8, "bid": _F8, "ask": _F8, "mid": _F8, "spread": _F8, "imb": _F8}
        )
        self.trades = ColumnBuffer(TRADES_CAPACITY, {"t": _F8, "price": _F8, "amount": _F8, "side": np.int8})
        self._now = math.nan  # cursor, seconds
        self._window = float(DEFAULT_WINDOW_S)
        self._fitting: set[pg.PlotItem] = set()  # plots whose height follows the visible data
        self._stale = False  # frames arrived while hidden
        self._spread_unit = ""
        self._in_update = False
        self._redraw_timer = QTimer(self, singleShot=True, interval=0)
        self._redraw_timer.timeout.connect(self._redraw)

        self._build_actions()
        self._build_plots()
        self._fitting = {self.price_plot, self.spread_plot}
        self._build_toolbar()

    # ---- construction ------------------------------------------------------------------------
    def _build_actions(self) -> None:
        self.act_follow = QAction("&Follow Cursor", self, checkable=True, checked=True)
        self.act_follow.setShortcut(QKeySequence("F"))
        self.act_follow.setToolTip("Keep the current time at the right edge (F). Zoom or pan turns it off.")
        self.act_follow.toggled.connect(self._on_follow_toggled)
        self.act_trades = QAction("Show &Trades on Chart", self, checkable=True, checked=True)
        self.act_trades.setShortcut(QKeySequence("T"))
        self.act_trades.toggled.connect(self._on_trades_toggled)
        self.act_wider = QAction("&Wider Chart Window", self)
        self.act_wider.setShortcut(QKeySequence("Ctrl+]"))
        self.act_wider.triggered.connect(lambda: self._step_window(+1))
        self.act_narrower = QAction("&Narrower Chart Window", self)
        self.act_narrower.setShortcut(QKeySequence("Ctrl+["))
        self.act_narrower.triggered.connect(lambda: self._step_window(-1))

    def actions_for_menu(self) -> list[QAction]:
        return [self.act_follow, self.act_trades, self.act_wider, self.act_narrower]

    def _build_plots(self) -> None:
        self.glw = pg.GraphicsLayoutWidget(self)
        self.glw.setBackground(theme.BASE)
        self.glw.ci.layout.setSpacing(0)
        self.glw.ci.setContentsMargins(2, 2, 2, 2)
        self.price_plot = self._add_plot(0, "Price")
        self.spread_plot = self._add_plot(1, "Spread")
        self.imb_plot = self._add_plot(2, f"Imb. (top {STATS_DEPTH})")
        self.price_plot.showAxis("bottom", False)
        self.spread_plot.showAxis("bottom", False)
        self.imb_plot.setYRange(-1.0, 1.0, padding=0.05)
        lay = self.glw.ci.layout
        lay.setRowStretchFactor(0, 6)
        lay.setRowStretchFactor(1, 1)
        lay.setRowStretchFactor(2, 1)
        self.spread_plot.setXLink(self.price_plot)
        self.imb_plot.setXLink(self.price_plot)

        c = theme.qcolor
        self.bid_curve = CurveItem(pg.mkPen(theme.BID, width=1))
        self.ask_curve = CurveItem(pg.mkPen(theme.ASK, width=1))
        self.mid_curve = CurveItem(pg.mkPen(c(theme.MID, 120), width=1, style=Qt.PenStyle.DotLine))
        self.band = BandItem(c("#8fa3bf", 34))
        # atlas rows: 0 sell, 1 unknown, 2 buy (row = side + 1)
        self.dots = DotsItem([(theme.ASK, 60, 190), (theme.NEUTRAL, 60, 190), (theme.BID, 60, 190)])
        for item in (self.band, self.bid_curve, self.ask_curve, self.mid_curve, self.dots):
            self.price_plot.addItem(item)
        self.spread_curve = CurveItem(pg.mkPen("#8fb3ff", width=1))
        self.spread_plot.addItem(self.spread_curve)
        # imbalance as thin bars (segment pairs): strokes are far cheaper than big filled polygons
        self.imb_pos = CurveItem(pg.mkPen(c(theme.BID, 170), width=1), connect="pairs")
        self.imb_neg = CurveItem(pg.mkPen(c(theme.ASK, 170), width=1), connect="pairs")
        self.imb_plot.addItem(self.imb_pos)
        self.imb_plot.addItem(self.imb_neg)
        self.imb_plot.addItem(pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen(theme.GRID)), ignoreBounds=True)
        self.cursors = []
        for p in (self.price_plot, self.spread_plot, self.imb_plot):
            line = CursorLine(pg.mkPen(c(theme.LAST, 200), width=1))
            line.setVisible(False)
            p.addItem(line, ignoreBounds=True)
            self.cursors.append(line)
            p.getViewBox().sigRangeChangedManually.connect(lambda *_, p=p: self._on_manual_range(p))
        self.price_plot.getViewBox().sigXRangeChanged.connect(self._on_x_range_changed)
        self.glw.scene().sigMouseClicked.connect(self._on_scene_click)

        self.stack = EmptyState(self.glw, parent=self)

    def _add_plot(self, row: int, name: str) -> pg.PlotItem:
        plot = add_chart_plot(self.glw, row, 0, name, LeanDateAxis(orientation="bottom", utcOffset=0))
        for hidden in ("left", "top"):  # never shown: they need not follow the view
            plot.getAxis(hidden).unlinkFromView()
        plot.getViewBox().setMouseEnabled(x=True, y=True)
        return plot

    def _build_toolbar(self) -> None:
        follow_btn = QToolButton(self)
        follow_btn.setDefaultAction(self.act_follow)
        follow_btn.setText("Follow")
        trades_btn = QToolButton(self)
        trades_btn.setDefaultAction(self.act_trades)
        trades_btn.setText("Trades")
        self.window_box = QComboBox(self)
        for s in WINDOWS_S:
            self.window_box.addItem(_window_label(s), s)
        self.window_box.setCurrentIndex(WINDOWS_S.index(DEFAULT_WINDOW_S))
        self.window_box.setToolTip("Width of the followed time window (Ctrl+[ / Ctrl+])")
        self.window_box.currentIndexChanged.connect(self._on_window_changed)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 3, 4, 3)
        bar.setSpacing(4)
        bar.addWidget(QLabel("Window", self))
        bar.addWidget(self.window_box)
        bar.addWidget(follow_btn)
        bar.addWidget(trades_btn)
        bar.addStretch(1)
        self.hint = QLabel("Wheel: zoom · drag: pan · double-click: seek", self)
        self.hint.setObjectName("dimLabel")
        bar.addWidget(self.hint)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)

    # ---- frames ------------------------------------------------------------------------------
    def apply_frame(self, frame: Frame) -> None:
        if frame.reset:
            self.series.clear()
            self.trades.clear()
        s = frame.series
        if len(s):
            bid, ask = s.best_bid.astype(_F8), s.best_ask.astype(_F8)
            spread = spread_in_ticks(bid, ask, frame.tick_size)
            self._set_spread_unit("ticks" if frame.tick_size > 0 else "price")
            self.series.append(
                t=s.local_ts / 1e6, bid=bid, ask=ask, mid=(bid + ask) * 0.5, spread=spread, imb=s.imbalance
            )
        tr = frame.trades
        if len(tr):
            self.trades.append(t=tr.local_ts / 1e6, price=tr.price, amount=tr.amount, side=tr.side)
        self._now = frame.local_ts / 1e6
        self.stack.set_empty(False)
        if not self.isVisible():  # a tab behind another dock: keep the data, draw when shown
            self._stale = True
            return
        self._draw_now()

    def _set_spread_unit(self, unit: str) -> None:
        if unit != self._spread_unit:
            self._spread_unit = unit
            label = "Spread (ticks)" if unit == "ticks" else "Spread (price)"
            self.spread_plot.getAxis("right").setLabel(label, color=theme.DIM)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._draw_now()

    def _draw_now(self) -> None:
        self._stale = False
        for line in self.cursors:
            line.setValue(self._now)
            line.setVisible(True)
        self._in_update = True
        try:
            if self.act_follow.isChecked():
                self._apply_follow_range()
            self._redraw()
        finally:
            self._in_update = False
        settle_scene(self.glw)

    # ---- drawing -----------------------------------------------------------------------------
    def _apply_follow_range(self) -> None:
        if math.isfinite(self._now):
            w = self._window
            self.price_plot.setXRange(self._now - w, self._now + w * 0.04, padding=0.0)

    def _on_x_range_changed(self, *_: object) -> None:
        if not self._in_update:
            self._redraw_timer.start()  # coalesce pan/zoom bursts into one redraw

    def _redraw(self) -> None:
        (x0, x1), _ = self.price_plot.getViewBox().viewRange()
        # 2 px per bin: filled areas cost superlinearly in vertices, and min/max per bin keeps spikes
        bins = max(100, int(self.price_plot.getViewBox().width()) // 2)
        until = self._now if math.isfinite(self._now) else None
        t = self.series.column("t")
        sl = visible_slice(t, x0, x1)
        cols = [self.series.column(k)[sl] for k in ("bid", "ask", "mid", "spread", "imb")]
        x, cols = decimate_minmax(t[sl], cols, bins)
        steps = [step_xy(x, y, until) for y in cols[:4]]
        for curve, xy in zip(
            (self.bid_curve, self.ask_curve, self.mid_curve, self.spread_curve), steps, strict=True
        ):
            curve.setData(*xy)
        self.band.set_data(steps[0][0], steps[0][1], steps[1][1])
        for item, (bx, by) in zip((self.imb_pos, self.imb_neg), bars(x, cols[4]), strict=True):
            item.setData(bx, by)
        dots = self._redraw_trades(x0, x1)
        if self.price_plot in self._fitting:
            _fit_height(self.price_plot, [*cols[:3], dots])
        if self.spread_plot in self._fitting:
            _fit_height(
                self.spread_plot, [cols[3]], floor=0.0, at_least=2.0 if self._spread_unit == "ticks" else 0.0
            )

    def _redraw_trades(self, x0: float, x1: float) -> np.ndarray:
        """Draw the visible prints; returns the prices drawn."""
        if not self.act_trades.isChecked():
            return np.empty(0)
        t = self.trades.column("t")
        sl = visible_slice(t, x0, x1)
        bin_width = (x1 - x0) / max(1.0, self.price_plot.getViewBox().width()) * DOT_BIN_PX
        tt, price, amount, side = aggregate_prints(
            t[sl],
            self.trades.column("price")[sl],
            self.trades.column("amount")[sl],
            self.trades.column("side")[sl],
            bin_width,
        )
        keep = largest(amount, MAX_DOTS)
        self.dots.set_data(tt[keep], price[keep], dot_sizes(amount[keep]), np.clip(side[keep], -1, 1) + 1)
        return price[keep]

    # ---- interaction -------------------------------------------------------------------------
    def _on_manual_range(self, plot: pg.PlotItem) -> None:
        self._fitting.discard(plot)  # the user set this plot's height (as pyqtgraph's auto-range does)
        if self.act_follow.isChecked():
            self.act_follow.setChecked(False)

    def _on_follow_toggled(self, on: bool) -> None:
        if on:
            self._fitting = {self.price_plot, self.spread_plot}
            self._apply_follow_range()
            self._redraw()

    def _on_trades_toggled(self, on: bool) -> None:
        self.dots.setVisible(on)
        if on:
            self._redraw()

    def _on_window_changed(self, index: int) -> None:
        self._window = float(self.window_box.itemData(index))
        if not self.act_follow.isChecked():
            self.act_follow.setChecked(True)
        else:
            self._apply_follow_range()

    def _step_window(self, step: int) -> None:
        i = min(max(self.window_box.currentIndex() + step, 0), self.window_box.count() - 1)
        self.window_box.setCurrentIndex(i)

    def _on_scene_click(self, event: object) -> None:
        if not event.double():  # type: ignore[attr-defined]
            return
        pos = event.scenePos()  # type: ignore[attr-defined]
        for plot in (self.price_plot, self.spread_plot, self.imb_plot):
            vb = plot.getViewBox()
            if vb.sceneBoundingRect().contains(pos):
                self.seek_requested.emit(round(vb.mapSceneToView(pos).x() * 1e6))
                return

    # ---- settings ----------------------------------------------------------------------------
    def save_settings(self, s: QSettings) -> None:
        s.setValue("charts/window_s", int(self._window))
        s.setValue("charts/follow", self.act_follow.isChecked())
        s.setValue("charts/trades", self.act_trades.isChecked())

    def load_settings(self, s: QSettings) -> None:
        w = st.value(s, "charts/window_s", DEFAULT_WINDOW_S, int)
        if w in WINDOWS_S:
            self.window_box.setCurrentIndex(WINDOWS_S.index(w))
        self.act_follow.setChecked(bool(st.value(s, "charts/follow", True, bool)))
        self.act_trades.setChecked(bool(st.value(s, "charts/trades", True, bool)))


def spread_in_ticks(bid: np.ndarray, ask: np.ndarray, tick: float) -> np.ndarray:
    """ask - bid in whole ticks: prices are on the tick grid, so a difference of 0.09999999999854481
    or 0.10000000000582077 on a 0.1 grid is exactly one tick, never two different values. Without
    a known tick the difference is rounded to 10 decimals, which removes the same noise."""
    diff = ask - bid
    if tick > 0:
        return np.rint(diff / tick)
    return np.round(diff, 10)


def _fit_height(
    plot: pg.PlotItem, columns: list[np.ndarray], *, floor: float | None = None, at_least: float = 0.0
) -> None:
    """Set the y range to the finite values of ``columns`` (padded); leave it if there are none.
    ``floor``: the range starts there at the latest (a spread pane starts at 0); ``at_least``: and
    reaches that high, so a constant one-tick spread is a line at 1, not a full-height band."""
    lo, hi = (math.inf, -math.inf) if floor is None else (floor, max(floor, at_least))
    for c in columns:
        if c.size:
            c_lo, c_hi = float(np.fmin.reduce(c)), float(np.fmax.reduce(c))  # NaN only if all NaN
            if not math.isnan(c_lo):
                lo, hi = min(lo, c_lo), max(hi, c_hi)
    if math.isfinite(lo) and math.isfinite(hi):
        plot.getViewBox().setYRange(lo, hi, padding=Y_PADDING)
