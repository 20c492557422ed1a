"""The Order Flow view: candles (or footprint) with VWAP bands, volume, CVD and a volume profile.

Everything drawn comes from ``core.flow`` through the order-flow thread (``FlowService``): the
view sends the visible window and the replay time, and draws the ``FlowFrame`` that comes back —
the same tables ``replayterm bars|footprint|profile|cvd|vwap`` print. After a seek the view asks
again, so what it shows is always a function of the replay time, never of frames accumulated.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QSettings, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QAction, QImage, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from replayterm.core.flow.spec import parse_interval, parse_sessions
from replayterm.core.flow.view import FlowFrame, FlowRequest
from replayterm.core.frames import Frame
from replayterm.qt import settings as st
from replayterm.qt import theme
from replayterm.qt.flow.items import BarsItem, CandlesItem, FootprintItem, ProfileItem
from replayterm.qt.flow.service import FlowService, start_service, stop_service
from replayterm.qt.views.axes import LeanAxis, LeanDateAxis
from replayterm.qt.views.chart_plot import add_chart_plot
from replayterm.qt.views.plot_items import CursorLine, CurveItem

log = logging.getLogger(__name__)

INTERVALS = ("1s", "5s", "15s", "30s", "1m", "5m", "15m", "1h", "100t", "1000t", "10v", "100v")
DEFAULT_INTERVAL = "5s"
WINDOWS_S = (60, 300, 900, 3600, 4 * 3600, 86400)
DEFAULT_WINDOW_S = 300
REQUEST_MS = 80  # at most ~12 requests a second while playing


def _label(s: int) -> str:
    return f"{s // 60} min" if s < 3600 else f"{s // 3600} h"


class OrderFlowView(QWidget):
    seek_requested = Signal("qint64")  # type: ignore[arg-type]
    request = Signal(object)  # FlowRequest, to the service thread
    open_files = Signal(list, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._now: int | None = None
        self._frame: FlowFrame | None = None
        self._generation = 0
        self._in_update = False
        self._anchor: int | None = None
        self.service: FlowService | None = None  # started with the first open
        self._flow_thread: QThread | None = None
        self._timer = QTimer(self, singleShot=True, interval=REQUEST_MS)
        self._timer.timeout.connect(self._send)
        self._build_plots()
        self._build_toolbar()

    # ---- construction ------------------------------------------------------------------------
    def _plot(self, row: int, col: int, name: str, date_axis: bool = True) -> pg.PlotItem:
        bottom = LeanDateAxis(orientation="bottom", utcOffset=0) if date_axis else LeanAxis("bottom")
        return add_chart_plot(self.glw, row, col, name, bottom)

    def _build_plots(self) -> None:
        self.glw = pg.GraphicsLayoutWidget(self)
        self.glw.setBackground(theme.BASE)
        self.glw.ci.layout.setSpacing(0)
        self.price = self._plot(0, 0, "Price")
        self.profile_plot = self._plot(0, 1, "", date_axis=False)
        self.profile_plot.hideAxis("right")
        self.profile_plot.hideAxis("bottom")
        self.profile_plot.setYLink(self.price)
        self.profile_plot.setMaximumWidth(170)
        self.profile_plot.getViewBox().setMouseEnabled(x=False, y=True)
        self.volume_plot = self._plot(1, 0, "Volume")
        self.cvd_plot = self._plot(2, 0, "CVD")
        for p in (self.volume_plot, self.cvd_plot):
            p.setXLink(self.price)
            p.getViewBox().setMouseEnabled(x=True, y=False)
        self.price.showAxis("bottom", False)
        self.volume_plot.showAxis("bottom", False)
        lay = self.glw.ci.layout
        lay.setRowStretchFactor(0, 6)
        lay.setRowStretchFactor(1, 1)
        lay.setRowStretchFactor(2, 2)
        lay.setColumnStretchFactor(0, 8)
        lay.setColumnStretchFactor(1, 1)

        self.candles = CandlesItem()
        self.footprint = FootprintItem()
        self.vwap = CurveItem(pg.mkPen(theme.qcolor("#f2c94c", 220), width=1.5))
        self.band1 = CurveItem(
            pg.mkPen(theme.qcolor("#f2c94c", 130), width=1, style=Qt.PenStyle.DashLine), connect="finite"
        )
        self.band2 = CurveItem(
            pg.mkPen(theme.qcolor("#f2c94c", 80), width=1, style=Qt.PenStyle.DotLine), connect="finite"
        )
        self.anchored = CurveItem(pg.mkPen(theme.qcolor("#8fb3ff", 220), width=1.5))
        self.naked = CurveItem(
            pg.mkPen(theme.qcolor(theme.LAST, 160), width=1, style=Qt.PenStyle.DotLine), connect="pairs"
        )
        for item in (
            self.footprint,
            self.candles,
            self.band2,
            self.band1,
            self.vwap,
            self.anchored,
            self.naked,
        ):
            self.price.addItem(item)
        self.volume = BarsItem()
        self.volume_plot.addItem(self.volume)
        self.cvd_line = CurveItem(pg.mkPen("#8fb3ff", width=1.5))
        self.cvd_candles = CandlesItem()
        self.cvd_plot.addItem(self.cvd_line)
        self.cvd_plot.addItem(self.cvd_candles)
        self.cvd_plot.addItem(pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen(theme.GRID)), ignoreBounds=True)
        self.profile = ProfileItem()
        self.profile_plot.addItem(self.profile)
        self.region = pg.LinearRegionItem(
            brush=theme.qcolor(theme.ACCENT, 30), pen=pg.mkPen(theme.qcolor(theme.ACCENT, 160))
        )
        self.region.setVisible(False)
        self.region.setZValue(-10)
        self.price.addItem(self.region, ignoreBounds=True)
        self.region.sigRegionChangeFinished.connect(lambda *_: self._schedule(now=True))
        self.cursors = []
        for p in (self.price, self.volume_plot, self.cvd_plot):
            line = CursorLine(pg.mkPen(theme.qcolor(theme.LAST, 200), width=1))
            line.setVisible(False)
            p.addItem(line, ignoreBounds=True)
            self.cursors.append(line)
            p.getViewBox().sigRangeChangedManually.connect(self._on_manual_range)
        self.price.getViewBox().sigXRangeChanged.connect(self._on_x_range)
        self.glw.scene().sigMouseClicked.connect(self._on_click)
        self.status = QLabel("Open a file with trades to see its order flow", self)
        self.status.setObjectName("dimLabel")

    def _build_toolbar(self) -> None:
        self.interval_box = QComboBox(self)
        self.interval_box.addItems(list(INTERVALS))
        self.interval_box.setCurrentText(DEFAULT_INTERVAL)
        self.interval_box.setEditable(True)
        self.interval_box.setToolTip("Bar size: 1s…1d, 100t (trades), 10v (volume), 1Mn (notional)")
        self.interval_box.currentTextChanged.connect(self._on_settings)
        self.mode_box = QComboBox(self)
        self.mode_box.addItems(["Candles", "Footprint"])
        self.mode_box.currentIndexChanged.connect(self._on_settings)
        self.rows_box = QSpinBox(self)
        self.rows_box.setRange(1, 10_000)
        self.rows_box.setValue(1)
        self.rows_box.setSuffix(" ticks")
        self.rows_box.setToolTip("Ticks per price row (footprint and profile)")
        self.rows_box.valueChanged.connect(self._on_settings)
        self.profile_box = QComboBox(self)
        self.profile_box.addItems(["Session profile", "Visible-range profile", "Fixed-range profile"])
        self.profile_box.setToolTip("Fixed range: drag the shaded region (or its edges) on the price chart")
        self.profile_box.currentIndexChanged.connect(self._on_settings)
        self.cvd_box = QComboBox(self)
        self.cvd_box.addItems(["CVD line", "CVD candles"])
        self.cvd_box.currentIndexChanged.connect(self._on_settings)
        self.ratio_box = QDoubleSpinBox(self)
        self.ratio_box.setRange(1.0, 100.0)
        self.ratio_box.setDecimals(1)
        self.ratio_box.setValue(3.0)
        self.ratio_box.setSuffix(":1")
        self.ratio_box.setToolTip("Footprint diagonal imbalance ratio")
        self.ratio_box.valueChanged.connect(self._on_settings)
        self.va_box = QSpinBox(self)
        self.va_box.setRange(1, 100)
        self.va_box.setValue(70)
        self.va_box.setSuffix(" % VA")
        self.va_box.setToolTip("Value area: share of the profile's volume around the POC")
        self.va_box.valueChanged.connect(self._on_settings)
        self.session_edit = QLineEdit("utc", self)
        self.session_edit.setMaximumWidth(96)
        self.session_edit.setToolTip(
            "Sessions (UTC): 'utc' (days), 'HH:MM' (days starting then) or 'HH:MM-HH:MM' (hours)"
        )
        self.session_edit.editingFinished.connect(self._on_settings)
        self.vwap_box = QCheckBox("VWAP ±σ", self)
        self.vwap_box.setChecked(True)
        self.vwap_box.toggled.connect(self._on_settings)
        self.window_box = QComboBox(self)
        for s in WINDOWS_S:
            self.window_box.addItem(_label(s), s)
        self.window_box.setCurrentIndex(WINDOWS_S.index(DEFAULT_WINDOW_S))
        self.window_box.currentIndexChanged.connect(self._on_window)
        self.act_follow = QAction("Follow", self, checkable=True, checked=True)
        self.act_follow.setShortcut(QKeySequence("Shift+F"))
        self.act_follow.toggled.connect(self._on_settings)
        follow = QToolButton(self)
        follow.setDefaultAction(self.act_follow)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 3, 4, 3)
        bar.setSpacing(4)
        for w in (
            QLabel("Bars", self),
            self.interval_box,
            self.mode_box,
            self.rows_box,
            self.ratio_box,
            self.profile_box,
            self.va_box,
            self.session_edit,
            self.cvd_box,
            self.vwap_box,
            QLabel("Window", self),
            self.window_box,
            follow,
        ):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.glw, 1)

    # ---- data ----------------------------------------------------------------------------------
    def _start(self) -> None:
        if self.service is not None:
            return
        self.service = FlowService()
        self._flow_thread = start_service(self.service)
        self.request.connect(self.service.request)
        self.open_files.connect(self.service.open)
        self.service.ready.connect(self._draw)
        self.service.opened.connect(self._on_opened)
        self.service.failed.connect(self._on_failed)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    def open_data(self, paths: list[str], instrument: str) -> None:
        self._start()
        self._frame = None
        self.status.setText("Indexing order flow…")
        self.open_files.emit(list(paths), instrument)

    def _on_opened(self, name: str) -> None:
        self.status.setText(name or "No trades in these files: order flow needs a trades file")
        self._schedule(now=True)

    def _on_failed(self, text: str) -> None:
        log.warning("order flow: %s", text)
        self.status.setText(f"Order flow: {text.splitlines()[0] if text else 'failed'}")

    def apply_frame(self, frame: Frame) -> None:
        self._now = int(frame.local_ts)
        for line in self.cursors:
            line.setValue(self._now / 1e6)
            line.setVisible(True)
        if self.act_follow.isChecked():
            self._follow()
        self._schedule(now=frame.reset)

    def _follow(self) -> None:
        if self._now is None:
            return
        w = float(self.window_box.currentData())
        t = self._now / 1e6
        self._in_update = True
        try:
            self.price.setXRange(t - w, t + w * 0.05, padding=0.0)
        finally:
            self._in_update = False

    def _schedule(self, now: bool = False) -> None:
        if now:
            self._timer.stop()
            self._send()
        elif not self._timer.isActive():
            self._timer.start()

    def current_request(self) -> FlowRequest | None:
        if self._now is None:
            return None
        (x0, x1), _ = self.price.getViewBox().viewRange()
        text = self.interval_box.currentText().strip()
        try:
            parse_interval(text)
        except ValueError as exc:
            self.status.setText(str(exc))
            return None
        try:
            sessions = self.session_edit.text().strip() or "utc"
            parse_sessions(sessions)
        except ValueError as exc:
            self.status.setText(str(exc))
            return None
        self._generation += 1
        return FlowRequest(
            now=self._now,
            x0=int(x0 * 1e6),
            x1=int(x1 * 1e6),
            interval=text,
            group_ticks=self.rows_box.value(),
            footprint=self.mode_box.currentIndex() == 1,
            profile=("session", "visible", "fixed")[self.profile_box.currentIndex()],
            fixed=self._fixed_range(),
            anchor=self._anchor,
            generation=self._generation,
            ratio=self.ratio_box.value(),
            value_area=self.va_box.value() / 100.0,
            sessions=sessions,
        )

    def _fixed_range(self) -> tuple[int, int] | None:
        if self.profile_box.currentIndex() != 2:
            return None
        lo, hi = self.region.getRegion()
        return int(lo * 1e6), int(hi * 1e6)

    def _send(self) -> None:
        if self.service is None:
            return
        req = self.current_request()
        if req is not None:
            self.request.emit(req)

    # ---- drawing ---------------------------------------------------------------------------------
    def _draw(self, frame: FlowFrame) -> None:
        if frame.request.client != "flow":
            return
        self._frame = frame
        b = frame.bars.columns
        if frame.empty:
            for item in (self.candles, self.cvd_candles):
                item.set_data(*[np.empty(0)] * 6)
            self.volume.set_data(*[np.empty(0)] * 4)
            self.footprint.set_data(*[np.empty(0)] * 8)
            return
        spec = parse_interval(frame.request.interval)
        x = b["start_us"] / 1e6
        if spec.is_time:
            w = np.full(len(x), float(spec.size))
        else:
            w = np.diff(np.r_[x, b["last_us"][-1] / 1e6 + 1e-3])
        fp = frame.footprint
        show_fp = fp is not None and len(fp)
        if show_fp:
            assert fp is not None
            c = fp.columns
            idx = np.searchsorted(b["start_us"], c["start_us"])
            row = frame.tick_size * frame.request.group_ticks
            flags = (c["buy_imbalance"] * 1) | (c["sell_imbalance"] * 2)
            self.footprint.set_data(
                x[idx],
                w[idx],
                c["price"],
                np.full(len(idx), row),
                c["bid_volume"],
                c["ask_volume"],
                flags,
                c["poc"],
            )
            self.candles.set_data(*[np.empty(0)] * 6)
        else:
            self.footprint.set_data(*[np.empty(0)] * 8)
            self.candles.set_data(x, w, b["open"], b["high"], b["low"], b["close"])
        self.volume.set_data(x, w, b["volume"], b["delta"])
        end = x + w
        v = frame.vwap.columns
        on = self.vwap_box.isChecked() and len(frame.vwap)
        if on:
            self.vwap.setData(*_steps(x, end, v["vwap"]))
            self.band1.setData(*_steps2(x, end, v["upper_1"], v["lower_1"]))
            self.band2.setData(*_steps2(x, end, v["upper_2"], v["lower_2"]))
        for item in (self.vwap, self.band1, self.band2):
            item.setVisible(bool(on))
        if frame.anchored is not None and len(frame.anchored):
            a = frame.anchored.columns
            ax = a["start_us"] / 1e6
            self.anchored.setData(*_steps(ax, ax + (w[0] if len(w) else 1.0), a["vwap"]))
            self.anchored.setVisible(True)
        else:
            self.anchored.setVisible(False)
        if frame.naked_pocs:
            right = float(end[-1])
            xs = np.array([[s / 1e6, right] for s, _ in frame.naked_pocs]).ravel()
            ys = np.array([[p, p] for _, p in frame.naked_pocs]).ravel()
            self.naked.setData(xs, ys)
        else:
            self.naked.setData(np.empty(0), np.empty(0))
        cv = frame.cvd.columns
        if self.cvd_box.currentIndex() == 1:
            self.cvd_candles.set_data(x, w, cv["open"], cv["high"], cv["low"], cv["close"])
            self.cvd_line.setData(np.empty(0), np.empty(0))
        else:
            self.cvd_candles.set_data(*[np.empty(0)] * 6)
            self.cvd_line.setData(*_steps(x, end, cv["close"]))
        self._draw_profile(frame)
        self._fit(b, cv)
        self.status.setText(frame.note or self._summary(frame))

    def _draw_profile(self, frame: FlowFrame) -> None:
        p = frame.profile
        if p is None or not len(p.profile.ticks):
            self.profile.set_data(np.empty(0), 1.0, np.empty(0), np.empty(0), None, None, None)
            return
        t = p.table().columns
        s = p.summary()
        self.profile.set_data(
            t["price"],
            s["row_size"] or frame.tick_size,
            t["buy_volume"],
            t["sell_volume"],
            s["poc"],
            s["val"],
            s["vah"],
        )
        top = float((t["buy_volume"] + t["sell_volume"]).max())
        self.profile_plot.getViewBox().setXRange(0.0, top * 1.05, padding=0.0)

    def _summary(self, frame: FlowFrame) -> str:
        p = frame.profile.summary() if frame.profile is not None else {}
        if not p or p.get("poc") is None:
            return ""
        return f"POC {p['poc']:g}  VAH {p['vah']:g}  VAL {p['val']:g}"

    def _fit(self, b: dict[str, np.ndarray], cv: dict[str, np.ndarray]) -> None:
        if not self.act_follow.isChecked():
            return
        lo, hi = float(np.min(b["low"])), float(np.max(b["high"]))
        pad = (hi - lo) * 0.05 or 1.0
        self._in_update = True
        try:
            self.price.getViewBox().setYRange(lo - pad, hi + pad, padding=0.0)
            self.volume_plot.getViewBox().setYRange(0.0, float(np.max(b["volume"])) * 1.1 or 1.0, padding=0.0)
            clo, chi = float(np.min(cv["low"])), float(np.max(cv["high"]))
            self.cvd_plot.getViewBox().setYRange(clo, chi, padding=0.08)
        finally:
            self._in_update = False

    # ---- interaction ---------------------------------------------------------------------------
    def _on_settings(self, *_: object) -> None:
        fixed = self.profile_box.currentIndex() == 2
        if fixed and not self.region.isVisible():
            (x0, x1), _ = self.price.getViewBox().viewRange()
            self.region.setRegion((x0 + (x1 - x0) * 0.5, x0 + (x1 - x0) * 0.8))
        self.region.setVisible(fixed)
        if self.act_follow.isChecked():
            self._follow()
        self._schedule(now=True)

    def _on_window(self, *_: object) -> None:
        self.act_follow.setChecked(True)
        self._follow()
        self._schedule(now=True)

    def _on_manual_range(self, *_: object) -> None:
        if self.act_follow.isChecked():
            self.act_follow.setChecked(False)

    def _on_x_range(self, *_: object) -> None:
        if not self._in_update:
            self._schedule()

    def _on_click(self, event: object) -> None:
        pos = event.scenePos()  # type: ignore[attr-defined]
        vb = self.price.getViewBox()
        if not vb.sceneBoundingRect().contains(pos):
            return
        t = round(vb.mapSceneToView(pos).x() * 1e6)
        if event.double():  # type: ignore[attr-defined]
            self.seek_requested.emit(t)
        elif event.modifiers() & Qt.KeyboardModifier.ControlModifier:  # type: ignore[attr-defined]
            self._anchor = t  # Ctrl+click: anchor a VWAP here
            self._schedule(now=True)

    def grab_image(self) -> QImage:
        return self.glw.grab().toImage()

    # ---- lifetime and settings -----------------------------------------------------------------
    def shutdown(self) -> None:
        if self._flow_thread is not None:
            stop_service(self._flow_thread)

    def save_settings(self, s: QSettings) -> None:
        s.setValue("flow/interval", self.interval_box.currentText())
        s.setValue("flow/mode", self.mode_box.currentIndex())
        s.setValue("flow/rows", self.rows_box.value())
        s.setValue("flow/window_s", int(self.window_box.currentData()))

    def load_settings(self, s: QSettings) -> None:
        self.interval_box.setCurrentText(str(st.value(s, "flow/interval", DEFAULT_INTERVAL, str)))
        self.mode_box.setCurrentIndex(int(st.value(s, "flow/mode", 0, int)))  # type: ignore[call-overload]
        self.rows_box.setValue(int(st.value(s, "flow/rows", 1, int)))  # type: ignore[call-overload]
        w = int(st.value(s, "flow/window_s", DEFAULT_WINDOW_S, int))  # type: ignore[call-overload]
        if w in WINDOWS_S:
            self.window_box.setCurrentIndex(WINDOWS_S.index(w))


def _steps(x0: np.ndarray, x1: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A value per bar as a flat segment across the bar."""
    xs = np.column_stack([x0, x1]).ravel()
    ys = np.repeat(np.asarray(y, dtype=np.float64), 2)
    return xs, ys


def _steps2(x0: np.ndarray, x1: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two step lines in one curve, split by a NaN."""
    xa, ya = _steps(x0, x1, a)
    xb, yb = _steps(x0, x1, b)
    return np.r_[xa, math.nan, xb], np.r_[ya, math.nan, yb]
