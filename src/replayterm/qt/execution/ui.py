"""``ExecutionUI``: the app's execution settings — kept, shown, saved, applied, copied as a command.

The settings for all strategies are saved (QSettings, as the command-line options that give
them) and sent to the worker at start and on Apply; a strategy's own settings live for the
session. The status-bar label shows the settings in force at a glance, with the worker's
warnings (unknown exchange fees, a recorder clock offset, clipped feed latencies).
"""

from __future__ import annotations

import logging
import shlex

from PySide6.QtCore import QObject, QSettings, Signal, Slot
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QWidget

from replayterm.commands.execution_args import backtest_argv, command_args, format_interval, settings_with
from replayterm.core.session.settings import SessionSettings
from replayterm.core.session.views import StrategyInfo
from replayterm.qt.execution.dialog import ExecutionDialog

log = logging.getLogger(__name__)
SETTINGS_KEY = "execution/options"


def _ms(us: int) -> str:
    return f"{us / 1000:g}"


def summary_text(s: SessionSettings) -> str:
    """One line for the status bar, e.g. "exec 40/0 ms · fees: exchange · reject · conservative"."""
    base = s.base_latency()
    latency = f"{_ms(base.entry_us)}/{_ms(base.response_us)} ms"
    if s.latency_model == "feed":
        latency = f"feed {latency}+{s.feed_scale:g}×"
    fees = "exchange" if s.fees is None else f"{s.fees.maker * 1e4:g}/{s.fees.taker * 1e4:g} bps"
    parts = [
        f"exec {latency}",
        f"fees {fees}",
        s.rules.off_tick,
        s.rules.through,
        "own liq" if s.rules.own_liquidity else "no own liq",
        s.queue if isinstance(s.queue, str) else "custom queue",
        f"metrics {format_interval(s.metrics_interval_us)}",
    ]
    if s.slippage_bps:
        parts.insert(2, f"slip {s.slippage_bps:g} bps")
    if s.initial_cash:
        parts.append(f"cash {s.initial_cash:g}")
    return " · ".join(parts)


class ExecutionUI(QObject):
    apply_settings = Signal(object)  # SessionSettings, for the worker
    apply_strategy_settings = Signal(int, object)  # id, SessionSettings | None
    export_requested = Signal(str)  # folder: write fills.csv, equity.csv… as the backtest command does
    status = Signal(str)

    def __init__(self, qsettings: QSettings, parent: QWidget) -> None:
        super().__init__(parent)
        self.qsettings = qsettings
        self.settings = SessionSettings()
        self.own: dict[int, SessionSettings] = {}
        self.files: list[str] = []
        self.instruments: list[str] = []
        self.strategies: list[StrategyInfo] = []
        self.label = QLabel("", parent)
        self.label.setObjectName("executionLabel")
        self.dialog: ExecutionDialog | None = None
        self._logged: set[str] = set()
        self._parent = parent
        self.act_settings = QAction("&Execution Settings…", self)
        self.act_settings.setShortcut(QKeySequence("Ctrl+Shift+E"))
        self.act_settings.triggered.connect(self.show_dialog)
        self.act_copy = QAction("&Copy Backtest Command", self)
        self.act_copy.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.act_copy.setToolTip("Copy the replayterm backtest command that gives the same fills")
        self.act_copy.triggered.connect(self.copy_command)
        self.act_export = QAction("E&xport Strategy Results…", self)
        self.act_export.setToolTip(
            "Write fills.csv, equity.csv, signals.csv, plots.csv and summary.json up to now"
        )
        self.act_export.setShortcut(QKeySequence("Ctrl+Shift+X"))
        self.act_export.triggered.connect(self.export_dialog)
        self.load_settings(qsettings)

    # ---- persistence ---------------------------------------------------------------------------
    def load_settings(self, s: QSettings) -> None:
        raw = s.value(SETTINGS_KEY)
        options = shlex.split(raw) if isinstance(raw, str) else []
        try:
            self.settings = settings_with(SessionSettings(), options)
        except ValueError as exc:
            log.warning("Ignoring saved execution settings (%s): %s", raw, exc)
            self.settings = SessionSettings()
        self._refresh_label([])

    def save_settings(self, s: QSettings) -> None:
        s.setValue(SETTINGS_KEY, shlex.join(command_args(self.settings)))

    # ---- requests ------------------------------------------------------------------------------
    def show_dialog(self) -> None:
        if self.dialog is None:
            self.dialog = ExecutionDialog(self._parent)
            self.dialog.apply_all.connect(self.apply)
            self.dialog.apply_strategy.connect(self.apply_to_strategy)
            self.dialog.copy_requested.connect(self.copy_command)
        self._sync_dialog()
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()

    def apply(self, settings: SessionSettings) -> None:
        self.settings = settings
        self.save_settings(self.qsettings)
        log.info("Execution settings: %s", summary_text(settings))
        self.status.emit("Execution settings applied: re-running the strategies")
        self._refresh_label([])
        self.apply_settings.emit(settings)

    def apply_to_strategy(self, sid: int, settings: SessionSettings | None) -> None:
        if settings is None:
            self.own.pop(sid, None)
        else:
            self.own[sid] = settings
        self._sync_dialog()
        self.apply_strategy_settings.emit(sid, settings)

    def export_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self._parent, "Export Strategy Results To")
        if folder:
            self.export_requested.emit(folder)

    @Slot(str)
    def exported(self, folder: str) -> None:
        log.info("Strategy results written to %s", folder)
        self.status.emit(f"Results written to {folder}")

    def command(self) -> list[str]:
        """The ``replayterm backtest`` argv that reproduces the app's strategies and settings."""
        entries = [
            (info.spec, dict(info.params), self.own.get(info.handle.id))
            for info in self.strategies
            if info.spec is not None and info.status.value == "enabled"  # failed/stopped do not trade
        ]
        return backtest_argv(self.files, entries, self.settings)

    def copy_command(self) -> None:
        line = shlex.join(self.command())
        QGuiApplication.clipboard().setText(line)
        skipped = [i.name for i in self.strategies if i.spec is None]
        off = [i.name for i in self.strategies if i.spec is not None and i.status.value != "enabled"]
        note = f" (left out, not loaded from a file or name: {', '.join(skipped)})" if skipped else ""
        note += f" (left out, failed or stopped: {', '.join(off)})" if off else ""
        log.info("Copied: %s%s", line, note)
        self.status.emit("Backtest command copied to the clipboard")

    # ---- answers from the worker ---------------------------------------------------------------
    def set_opened(self, files: list[str], instruments: list[str]) -> None:
        self.files, self.instruments = list(files), list(instruments)
        if self.dialog is not None:
            self.dialog.set_instruments(self.instruments)

    @Slot(list)
    def set_strategies(self, infos: list[StrategyInfo]) -> None:
        self.strategies = list(infos)
        ids = {i.handle.id for i in infos}
        self.own = {sid: s for sid, s in self.own.items() if sid in ids}
        if self.dialog is not None and self.dialog.isVisible():
            self._sync_dialog()

    @Slot(object)
    def set_report(self, payload: dict) -> None:
        notes = list(payload.get("notes", []))
        for note in notes:
            if note not in self._logged:  # each warning once, not at every apply
                self._logged.add(note)
                log.warning("%s", note)
        self._refresh_label(notes, payload.get("report", {}))

    def _sync_dialog(self) -> None:
        if self.dialog is None:
            return
        self.dialog.set_instruments(self.instruments)
        self.dialog.set_state(self.settings, self.own, [(i.handle.id, i.name) for i in self.strategies])

    def _refresh_label(self, notes: list[str], report: dict | None = None) -> None:
        text = summary_text(self.settings)
        if self.own:
            text += f" · {len(self.own)} strategy override(s)"
        self.label.setText(("⚠ " if notes else "") + text)
        tip = ["Execution settings (Ctrl+Shift+E to change):", text]
        for name, figures in (report or {}).get("instruments", {}).items():
            fees = figures.get("fees", {})
            tip.append(
                f"{name}: latency {figures.get('latency_us')} µs, fees maker {fees.get('maker_bps')} / "
                f"taker {fees.get('taker_bps')} bps"
            )
        tip += [f"⚠ {n}" for n in notes]
        self.label.setToolTip("\n".join(tip))
