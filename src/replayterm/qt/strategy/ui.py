"""``StrategyUI``: every strategy widget of the window and how they talk to each other.

The main window only places what this builds (docks, a menu, a status-bar widget) and feeds it
frames; the controller connects its request signals to the worker's slots (queued) and the
worker's answers to its slots. The two direct calls into the worker (cancel a long run, stop a
stuck callback) are thread-safe methods handed over with ``set_worker_controls``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, Signal, SignalInstance, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from replayterm.core.frames import Frame
from replayterm.core.session.views import StrategyInfo
from replayterm.qt import settings as st
from replayterm.qt.strategy.busy import BusyIndicator, StallMonitor
from replayterm.qt.strategy.chart_overlay import ChartOverlay
from replayterm.qt.strategy.panel import StrategyPanel
from replayterm.qt.strategy.pnl_chart import PnLChart
from replayterm.qt.strategy.records_model import FillsModel, SignalsModel
from replayterm.qt.strategy.records_view import RecordsView
from replayterm.qt.strategy.reload_watch import StrategyFileWatcher
from replayterm.qt.strategy.series import StrategyData
from replayterm.qt.strategy.store import StrategyStore
from replayterm.qt.timefmt import format_utc
from replayterm.qt.views.charts import ChartsView

log = logging.getLogger(__name__)


class StrategyUI(QObject):
    # requests for the worker
    add_strategy = Signal(str, dict)
    remove_strategy = Signal(int)
    enable_strategy = Signal(int, bool)
    reload_strategy = Signal(int)
    set_strategy_params = Signal(int, dict)
    # for the window
    seek_requested = Signal("qint64")  # type: ignore[arg-type]
    error = Signal(str, str)
    status = Signal(str)
    busy_changed = Signal(bool)  # a long strategy run started (True) or ended

    def __init__(self, settings: QSettings, charts: ChartsView, parent: QWidget) -> None:
        super().__init__(parent)
        self.settings = settings
        self.store = StrategyStore(self)
        self.data = StrategyData()
        self.panel = StrategyPanel(self.store, settings, parent)
        self.fills = FillsModel(self.store, parent=self)
        self.signals = SignalsModel(self.store, parent=self)
        self.fills_view = RecordsView(self.fills, "fill", parent)
        self.signals_view = RecordsView(self.signals, "signal", parent)
        self.pnl = PnLChart(self.store, self.data, charts.price_plot, charts.act_follow, parent)
        self.overlay = ChartOverlay(self.store, self.data, charts.price_plot)
        self.overlay.setParent(self)
        self.watcher = StrategyFileWatcher(self)
        self.busy = BusyIndicator(parent)
        self.stall = StallMonitor(self)
        self._cancel: Callable[[], None] | None = None
        self._abort: Callable[[], bool] | None = None
        self._now = 0
        self._reloading: dict[int, str] = {}  # id -> why (for the log once the worker answers)
        self._build_actions()
        self._connect()

    def _build_actions(self) -> None:
        self.act_stop = QAction("&Stop Strategy Callback", self)
        self.act_stop.setShortcuts([QKeySequence("Ctrl+."), QKeySequence("Ctrl+Pause")])
        self.act_stop.setToolTip("Stop the strategy callback that does not return (Ctrl+.)")
        self.act_stop.triggered.connect(self.stop_strategy)
        self.act_markers = QAction("Show Strategy &Marks on Chart", self, checkable=True, checked=True)
        self.act_markers.setShortcut(QKeySequence("M"))
        self.act_markers.toggled.connect(self.overlay.set_visible)
        self.act_hot_reload = QAction("&Hot Reload on Save", self, checkable=True, checked=True)
        self.act_hot_reload.setToolTip("Reload a strategy when its file is saved")
        self.act_hot_reload.toggled.connect(lambda on: setattr(self.watcher, "enabled", on))

    def _connect(self) -> None:
        p = self.panel
        p.add_requested.connect(self._on_add)
        p.remove_requested.connect(self._command(self.remove_strategy))
        p.enable_requested.connect(self._command(self.enable_strategy))
        p.params_requested.connect(self._command(self.set_strategy_params))
        p.reload_requested.connect(lambda sid: self.reload(sid, "reload requested"))
        self.watcher.reload_requested.connect(
            lambda sid, path: self.reload(sid, f"{os.path.basename(path)} was saved")
        )
        for src in (
            self.fills_view.seek_requested,
            self.signals_view.seek_requested,
            self.pnl.seek_requested,
        ):
            src.connect(self.seek_requested)
        self.busy.cancel_clicked.connect(self.cancel_run)
        self.busy.stop_clicked.connect(self.stop_strategy)
        self.stall.stalled_changed.connect(self.busy.set_stalled)
        self.store.structure_changed.connect(lambda: self.watcher.sync(self.store.infos()))
        self.store.removed.connect(self._on_removed)
        self.store.failed.connect(self._on_failed)

    def _command(self, signal: SignalInstance) -> Callable[..., None]:
        def send(*args: object) -> None:
            self.stall.command_sent()
            signal.emit(*args)

        return send

    # ---- composition helpers for the window --------------------------------------------------
    def fill_menu(self, menu: QMenu) -> None:
        for item in self.panel.actions_for_menu():
            if item is None:
                menu.addSeparator()
            elif isinstance(item, QMenu):
                menu.addMenu(item)
            else:
                menu.addAction(item)
        menu.addSeparator()
        menu.addAction(self.act_stop)
        menu.addSeparator()
        menu.addAction(self.act_markers)
        menu.addAction(self.act_hot_reload)

    def set_worker_controls(self, cancel: Callable[[], None], abort: Callable[[], bool]) -> None:
        """The worker's thread-safe direct calls: cancel a long run, stop a stuck callback."""
        self._cancel, self._abort = cancel, abort

    def command_sent(self, *_: object) -> None:
        """The window sent the worker a command that it answers with a frame."""
        self.stall.command_sent()

    @property
    def now_us(self) -> int:
        """Replay time of the last frame shown (µs)."""
        return self._now

    def frame_arrived(self, frame: Frame) -> None:
        """Every frame as it arrives (before coalescing): the worker is alive."""
        self.stall.activity(bool(frame.playing and not frame.at_end))

    # ---- requests ----------------------------------------------------------------------------
    def _on_add(self, spec: str, params: dict) -> None:
        log.info("Loading strategy %s", spec)
        self.status.emit(f"Loading strategy {os.path.basename(spec)}…")
        self._command(self.add_strategy)(spec, params)

    def load(self, spec: str, params: dict | None = None) -> None:
        """Load a strategy file or a registered name (menus, drag and drop, tests)."""
        if spec.endswith(".py") or ".py:" in spec:
            self.panel.load_file(spec, params)
        else:
            self._on_add(spec, dict(params or {}))

    def reload(self, sid: int, why: str) -> None:
        info = self.store.info(sid)
        if info is None:
            return
        log.info("Reloading %s: %s", info.name, why)
        self._reloading[sid] = why
        self._command(self.reload_strategy)(sid)

    def cancel_run(self) -> None:
        if self._cancel is not None:
            self._cancel()
            log.info("Cancelling the strategy run")

    def stop_strategy(self) -> None:
        if self._abort is None:
            return
        if self._abort():
            log.warning("Stopped the strategy callback that was running; that strategy is now disabled")
            self.status.emit("Strategy callback stopped")
        else:
            self.status.emit("No strategy callback is running")

    # ---- answers from the worker -------------------------------------------------------------
    @Slot(list)
    def set_strategies(self, infos: list[StrategyInfo]) -> None:
        self.stall.activity()
        before = set(self.store.ids())
        self.store.set_infos(infos)
        for info in infos:
            if info.handle.id not in before:
                log.info("Loaded strategy %s (%s) from %s", info.name, info.class_name, info.spec or "code")
                self.status.emit(f"Loaded strategy {info.name}")
        for sid, why in list(self._reloading.items()):
            reloaded = self.store.info(sid)
            del self._reloading[sid]
            if reloaded is not None and why:
                log.info(
                    "Reloaded %s (%s) from %s: re-ran from the start to %s UTC",
                    reloaded.name,
                    reloaded.class_name,
                    os.path.basename(reloaded.spec or reloaded.class_name),
                    format_utc(self._now) if self._now else "the current moment",
                )
                self.status.emit(f"Reloaded {reloaded.name}")

    @Slot(str, str)
    def show_strategy_error(self, title: str, text: str) -> None:
        if title.startswith("Cannot reload"):
            for sid in self._reloading:
                self._reloading[sid] = ""  # the running version stays: no "reloaded" line
        self.status.emit(title)
        self.error.emit(title, text)

    @Slot(float, str)
    def set_busy(self, fraction: float, message: str) -> None:
        self.stall.busy(fraction)
        was = self.busy.busy
        self.busy.set_busy(fraction, message)
        if self.busy.busy != was:
            self.busy_changed.emit(self.busy.busy)

    def apply_frame(self, frame: Frame) -> None:
        """Sink consumer: once per rendered frame, in dependency order."""
        self._now = frame.local_ts
        self.store.apply_frame(frame)
        self.data.apply_frame(frame, self.store.knows)
        self.fills.apply_frame(frame)
        self.signals.apply_frame(frame)
        if len(self.store):
            self.pnl.apply_frame(frame.local_ts)
            self.overlay.apply_frame(frame.local_ts)

    def _on_removed(self, ids: list[int]) -> None:
        for sid in ids:
            self.data.drop(sid)

    def _on_failed(self, info: StrategyInfo) -> None:
        err = info.error
        where = f" in {err.callback} at {format_utc(err.ts)} UTC: {err.message}" if err is not None else ""
        log.error("Strategy %s failed%s (the replay goes on without it)", info.name, where)
        self.status.emit(f"Strategy {info.name} failed — see the Strategies panel")
        self.panel.select(info.handle.id)

    # ---- settings ----------------------------------------------------------------------------
    def save_settings(self, s: QSettings) -> None:
        s.setValue("strategies/markers", self.act_markers.isChecked())
        s.setValue("strategies/hot_reload", self.act_hot_reload.isChecked())

    def load_settings(self, s: QSettings) -> None:
        self.act_markers.setChecked(bool(st.value(s, "strategies/markers", True, bool)))
        self.act_hot_reload.setChecked(bool(st.value(s, "strategies/hot_reload", True, bool)))
