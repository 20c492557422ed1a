"""Strategy chart under the price chart: net PnL per strategy, position (steps), and the
``ctx.plot`` series that are not prices, each strategy in its colour.

Its time axis is linked to the price chart's, so zoom, pan and follow move both. Every curve gets
one ``setData`` per frame with the visible slice only, decimated to the pixel width.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QVBoxLayout, QWidget

from replayterm.qt import theme
from replayterm.qt.models.plot_data import decimate_minmax, step_xy, visible_slice
from replayterm.qt.strategy.series import StrategyData
from replayterm.qt.strategy.store import StrategyStore
from replayterm.qt.widgets.empty_state import EmptyState

AXIS_WIDTH = 78  # the price chart's right axis width: the time axes line up
_DASHES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine)
NO_STRATEGY = "No strategy loaded\n\nStrategy ▸ Load Strategy File… (Ctrl+L) or a built-in"


def hold_to(x: np.ndarray, y: np.ndarray, until: float | None) -> tuple[np.ndarray, np.ndarray]:
    """The line through the samples, held flat from the last one to ``until`` (samples that
    repeat the previous value are not recorded, so the line would stop short of now)."""
    if until is None or x.shape[0] == 0 or until <= x[-1]:
        return x, y
    return np.append(x, until), np.append(y, y[-1])


def decimate_one(x: np.ndarray, y: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    xd, (yd,) = decimate_minmax(x, [y], bins)
    return xd, yd


class PnLChart(QWidget):
    seek_requested = Signal("qint64")  # type: ignore[arg-type]

    def __init__(
        self,
        store: StrategyStore,
        data: StrategyData,
        price_plot: pg.PlotItem | None = None,
        follow_action: QAction | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.data = data
        self._follow = follow_action
        self._now = math.nan
        self._drawn: tuple[object, ...] = ()
        self._net: dict[int, pg.PlotCurveItem] = {}
        self._pos: dict[int, pg.PlotCurveItem] = {}
        self._ind: dict[tuple[int, str], pg.PlotCurveItem] = {}
        self._keys: dict[object, tuple[object, ...]] = {}  # what each curve shows: skip equal redraws
        self._redraw_timer = QTimer(self, singleShot=True, interval=0)
        self._redraw_timer.timeout.connect(self.redraw)

        self.glw = pg.GraphicsLayoutWidget(self)
        self.glw.setBackground(theme.BASE)
        self.glw.ci.layout.setSpacing(0)
        self.glw.ci.setContentsMargins(2, 2, 2, 2)
        self.pnl_plot = self._add_plot(0, "PnL")
        self.pos_plot = self._add_plot(1, "Pos")
        self.ind_plot = self._add_plot(2, "Plots")
        lay = self.glw.ci.layout
        lay.setRowStretchFactor(0, 3)
        lay.setRowStretchFactor(1, 2)
        lay.setRowStretchFactor(2, 2)
        for p in (self.pnl_plot, self.pos_plot):
            p.showAxis("bottom", False)
        if price_plot is not None:
            self.pnl_plot.setXLink(price_plot)
        self.pos_plot.setXLink(self.pnl_plot)
        self.ind_plot.setXLink(self.pnl_plot)
        self.ind_plot.showAxis("bottom", True)
        self._show_indicators(False)
        self.legend = pg.LegendItem(
            offset=(8, 4),
            labelTextColor=theme.TEXT,
            brush=theme.qcolor(theme.PANEL, 200),
            labelTextSize="8pt",
        )
        self.legend.setParentItem(self.pnl_plot.getViewBox())
        self.ind_legend = pg.LegendItem(
            offset=(8, 4),
            labelTextColor=theme.TEXT,
            brush=theme.qcolor(theme.PANEL, 200),
            labelTextSize="8pt",
        )
        self.ind_legend.setParentItem(self.ind_plot.getViewBox())
        self.cursors = []
        for p in (self.pnl_plot, self.pos_plot, self.ind_plot):
            line = pg.InfiniteLine(
                angle=90, movable=False, pen=pg.mkPen(theme.qcolor(theme.LAST, 200), width=1)
            )
            line.setVisible(False)
            p.addItem(line, ignoreBounds=True)
            self.cursors.append(line)
            p.addItem(pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen(theme.GRID)), ignoreBounds=True)
            p.getViewBox().sigRangeChangedManually.connect(self._on_manual_range)
        self.pnl_plot.getViewBox().sigXRangeChanged.connect(self._on_x_range_changed)
        self.glw.scene().sigMouseClicked.connect(self._on_scene_click)

        self.stack = EmptyState(self.glw, NO_STRATEGY, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        store.structure_changed.connect(self._sync_items)
        store.removed.connect(self._remove)

    def _add_plot(self, row: int, name: str) -> pg.PlotItem:
        axis = pg.DateAxisItem(orientation="bottom", utcOffset=0)
        plot = self.glw.addPlot(row=row, col=0, axisItems={"bottom": axis})
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.hideAxis("left")
        plot.showAxis("right")
        plot.showGrid(x=True, y=True, alpha=0.12)
        right = plot.getAxis("right")
        right.setWidth(AXIS_WIDTH)
        right.enableAutoSIPrefix(False)
        right.setLabel(name, color=theme.DIM)
        for ax in (right, axis):
            ax.setTextPen(theme.DIM)
            ax.setPen(theme.BORDER)
            ax.setStyle(tickFont=theme.mono_font(8))
        vb = plot.getViewBox()
        vb.setMouseEnabled(x=True, y=True)
        vb.setAutoVisible(y=True)
        vb.enableAutoRange(y=True)
        vb.setDefaultPadding(0.08)
        return plot

    def _show_indicators(self, on: bool) -> None:
        """The indicator axis takes room only when some strategy plots a non-price series."""
        shown = self.ind_plot in self.glw.ci.items
        if on and not shown:
            self.glw.ci.addItem(self.ind_plot, row=2, col=0)
            self.glw.ci.layout.setRowStretchFactor(2, 2)
        elif not on and shown:
            self.glw.ci.removeItem(self.ind_plot)
        self.ind_plot.setVisible(on)
        self.pos_plot.showAxis("bottom", not on)

    # ---- items per strategy ------------------------------------------------------------------
    def _sync_items(self) -> None:
        self.stack.set_empty(len(self.store) == 0)
        self.legend.clear()
        self.legend.setColumnCount(max(1, min(3, len(self.store))))  # side by side: less of the curves hidden
        for sid in self.store.ids():
            colour = self.store.colour(sid)
            net = self._net.get(sid)
            if net is None:
                net = self._net[sid] = pg.PlotCurveItem(pen=pg.mkPen(colour, width=1.6))
                self.pnl_plot.addItem(net)
                fill = theme.qcolor(colour.name(), 38)
                pos = self._pos[sid] = pg.PlotCurveItem(
                    pen=pg.mkPen(colour, width=1.2), fillLevel=0.0, brush=pg.mkBrush(fill)
                )
                self.pos_plot.addItem(pos)
            net.setPen(pg.mkPen(colour, width=1.6))
            self.legend.addItem(net, self.store.name(sid))
        self._drawn = ()
        self.redraw()

    def _remove(self, ids: list[int]) -> None:
        for sid in ids:
            for items, plot in ((self._net, self.pnl_plot), (self._pos, self.pos_plot)):
                item = items.pop(sid, None)
                if item is not None:
                    plot.removeItem(item)
            for key in [k for k in self._ind if k[0] == sid]:
                self.ind_plot.removeItem(self._ind.pop(key))
        self._rebuild_ind_legend()

    def _indicator_item(self, sid: int, name: str) -> pg.PlotCurveItem:
        item = self._ind.get((sid, name))
        if item is None:
            style = _DASHES[sum(1 for k in self._ind if k[0] == sid) % len(_DASHES)]
            item = self._ind[(sid, name)] = pg.PlotCurveItem(
                pen=pg.mkPen(self.store.colour(sid), width=1.2, style=style)
            )
            self.ind_plot.addItem(item)
            self._rebuild_ind_legend()
        return item

    def _rebuild_ind_legend(self) -> None:
        self.ind_legend.clear()
        self.ind_legend.setColumnCount(max(1, min(3, len(self._ind))))
        for (sid, name), item in self._ind.items():
            self.ind_legend.addItem(item, f"{self.store.name(sid)} · {name}")
        self._show_indicators(bool(self._ind))

    # ---- frames ------------------------------------------------------------------------------
    def apply_frame(self, now_us: int) -> None:
        self._now = now_us / 1e6
        for line in self.cursors:
            line.setValue(self._now)
            line.setVisible(True)
        self.redraw()

    def _on_x_range_changed(self, *_: object) -> None:
        self._redraw_timer.start()

    def redraw(self) -> None:
        self._redraw_timer.stop()
        vb = self.pnl_plot.getViewBox()
        (x0, x1), _ = vb.viewRange()
        width = int(vb.width())
        key = (self.data.version, x0, x1, width, self._now)
        if key == self._drawn:
            return
        self._drawn = key
        bins = max(100, width // 2)
        lo, hi = x0 * 1e6, x1 * 1e6
        until = self._now if math.isfinite(self._now) else None
        for sid, net_item in self._net.items():
            cols = self.data.equity.find(sid)
            if cols is None or not len(cols):
                self._update(("net", sid), net_item, ("empty",), lambda: ([], []))
                self._update(("pos", sid), self._pos[sid], ("empty",), lambda: ([], []))
                continue
            ts = cols.column("ts")
            sl = visible_slice(ts, lo, hi)
            stamp = (id(cols), cols.stamp, sl.start, sl.stop, bins, until)
            if self._keys.get(("net", sid)) == stamp:
                continue
            x, (net, pos) = decimate_minmax(
                ts[sl] / 1e6, [cols.column("net")[sl], cols.column("position")[sl]], bins
            )
            self._update(("net", sid), net_item, stamp, lambda x=x, net=net: hold_to(x, net, until))
            self._update(("pos", sid), self._pos[sid], stamp, lambda x=x, pos=pos: step_xy(x, pos, until))
        for sid in self.store.ids():
            for name in self.data.plot_names(sid):
                cols = self.data.plots.find(sid, name)
                if cols is None or self.data.router.decided(sid, name) is not False:
                    continue
                ts = cols.column("ts")
                sl = visible_slice(ts, lo, hi)
                values = cols.column("value")
                self._update(
                    ("plot", sid, name),
                    self._indicator_item(sid, name),
                    (id(cols), cols.stamp, sl.start, sl.stop, bins),
                    lambda ts=ts, sl=sl, values=values: decimate_one(ts[sl] / 1e6, values[sl], bins),
                )

    def _update(
        self,
        name: object,
        item: pg.PlotCurveItem,
        key: tuple[object, ...],
        data: Callable[..., tuple[object, object]],
    ) -> None:
        """``setData`` only when what the curve should show changed."""
        if self._keys.get(name) == key:
            return
        self._keys[name] = key
        item.setData(*data())

    # ---- reading back (tests, export) --------------------------------------------------------
    def equity(self, sid: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The account samples held for ``sid``: ts (µs), net PnL, position."""
        cols = self.data.equity.find(sid)
        if cols is None:
            empty = np.empty(0)
            return empty.astype(np.int64), empty, empty
        return cols.column("ts"), cols.column("net"), cols.column("position")

    def curve(self, sid: int) -> tuple[np.ndarray, np.ndarray]:
        """What the net PnL curve of ``sid`` draws now (x in seconds)."""
        x, y = self._net[sid].getData()
        return (np.empty(0), np.empty(0)) if x is None else (x, y)

    # ---- interaction -------------------------------------------------------------------------
    def _on_manual_range(self, *_: object) -> None:
        if self._follow is not None and self._follow.isChecked():
            self._follow.setChecked(False)

    def _on_scene_click(self, event: object) -> None:
        if not event.double():  # type: ignore[attr-defined]
            return
        pos = event.scenePos()  # type: ignore[attr-defined]
        for plot in (self.pnl_plot, self.pos_plot, self.ind_plot):
            vb = plot.getViewBox()
            if plot.isVisible() and vb.sceneBoundingRect().contains(pos):
                self.seek_requested.emit(round(vb.mapSceneToView(pos).x() * 1e6))
                return
