"""``SweepDialog``: set up a sweep over the open data, run it with progress and Cancel, and
browse the results — a sortable table (export to CSV) and a heatmap. Double-clicking a run asks
the window to load that strategy with the run's parameters and replay it.

The dialog is modeless and never blocks the GUI thread: ``SweepThread`` drives worker processes
and sends rows back as queued signals.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs
from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from replayterm.batch import SweepPlan, SweepResult, metric_names
from replayterm.batch.results import SweepTable
from replayterm.core.session import SessionSettings
from replayterm.qt.sweep.heatmap_view import SweepHeatmap
from replayterm.qt.sweep.results_model import SweepResultsModel, SweepSortProxy, export_csv
from replayterm.qt.sweep.runner import SweepRequest, SweepThread
from replayterm.qt.sweep.setup_form import SweepSetup

log = logging.getLogger(__name__)
STOP_WAIT_MS = 20_000


def sweeps_folder() -> Path:
    """Where the app writes sweep results: one timestamped folder per sweep."""
    root = Path(
        os.environ.get("REPLAYTERM_SWEEPS_DIR") or Path(platformdirs.user_data_dir("replayterm")) / "sweeps"
    )
    return root / datetime.now(UTC).strftime("%Y%m%d-%H%M%S")


KEY_METRICS = ("net_pnl", "sharpe", "max_drawdown", "fills", "win_rate", "round_trips", "fees", "volume")


def display_columns(table: SweepTable, swept: Sequence[str]) -> list[str]:
    """The table's columns in reading order: run, swept parameters, day, status, the key metrics,
    the other metrics, the fixed parameters, events, error."""
    params = table.param_columns
    first = ["run", *(params[n] for n in swept), "day", "status", *KEY_METRICS]
    rest = [m for m in table.metrics if m not in KEY_METRICS]
    fixed = [c for n, c in params.items() if n not in swept]
    return [*first, *rest, *fixed, "events", "error"]


class SweepDialog(QDialog):
    # strategy spec, parameters, the run's files, where its replay starts (µs, or None = at the start)
    replay_requested = Signal(str, dict, list, object)

    def __init__(
        self, settings: Callable[[], SessionSettings] | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Parameter Sweep")
        self.setObjectName("sweepDialog")
        self.resize(1280, 760)
        self._settings = settings or SessionSettings
        self.files: list[str] = []
        self.sweep_thread: SweepThread | None = None
        self.plan: SweepPlan | None = None
        self._strategy = ""
        self._started = 0.0

        self.setup = SweepSetup(self)
        self.run_button = QPushButton("Run Sweep", self)
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setShortcut(QKeySequence("Esc"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button = QPushButton("Export CSV…", self)
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.export_dialog)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.data_label = QLabel("", self)
        self.data_label.setObjectName("dimLabel")
        self.data_label.setWordWrap(True)

        self.model = SweepResultsModel(self)
        self.proxy = SweepSortProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.doubleClicked.connect(self._on_double_click)
        self.table.setToolTip("Double-click a run to load its parameters and replay it")
        self.heatmap = SweepHeatmap(self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.table, "Results")
        self.tabs.addTab(self.heatmap, "Heatmap")

        left = QWidget(self)
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.data_label)
        lv.addWidget(self.setup, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        lv.addLayout(buttons)
        lv.addWidget(self.progress)
        lv.addWidget(self.status)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(left)
        split.addWidget(self.tabs)
        split.setSizes([430, 850])
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        self._update_buttons()

    # ---- inputs ---------------------------------------------------------------------------------
    def set_data(self, files: Sequence[str]) -> None:
        self.files = list(files)
        names = [os.path.basename(f) for f in self.files]
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        self.data_label.setText(f"Data: {shown}" if names else "Open market data first (File ▸ Open).")
        self.data_label.setToolTip("\n".join(self.files))
        self._update_buttons()

    def set_strategies(self, specs: Sequence[str]) -> None:
        self.setup.set_strategies(specs)

    @property
    def running(self) -> bool:
        return self.sweep_thread is not None and self.sweep_thread.isRunning()

    def _update_buttons(self) -> None:
        running = self.running
        self.run_button.setEnabled(bool(self.files) and not running)
        self.cancel_button.setEnabled(running)
        self.setup.setEnabled(not running)
        self.export_button.setEnabled(bool(self.model.rows))

    # ---- running --------------------------------------------------------------------------------
    def start(self) -> None:
        if self.running or not self.files:
            return
        try:
            grid, fixed = self.setup.grid_and_fixed()
        except ValueError as exc:
            self.status.setText(f"⚠ {exc}")
            return
        self._strategy = self.setup.strategy.currentText().strip()
        request = SweepRequest(
            files=self.files,
            strategy=self._strategy,
            grid=grid,
            fixed=fixed,
            out_dir=sweeps_folder(),
            per_day=self.setup.per_day.isChecked(),
            workers=self.setup.workers.value(),
            metric=self.setup.rank_metric.currentText(),
            settings=self._settings(),
        )
        self.model.reset([])
        self.heatmap.set_rows([])
        self.progress.setRange(0, 0)  # busy until the plan is known
        thread = self.sweep_thread = SweepThread(request, self)
        thread.planned.connect(self._on_planned)
        thread.row_done.connect(self._on_row)
        thread.finished_sweep.connect(self._on_finished)
        thread.failed.connect(self._on_failed)
        thread.message.connect(self.status.setText)
        thread.finished.connect(self._update_buttons)
        self._started = time.monotonic()
        thread.start()
        self._update_buttons()
        log.info("Sweep of %s started: results in %s", self._strategy, request.out_dir)

    def cancel(self) -> None:
        if self.sweep_thread is not None and self.running:
            self.sweep_thread.cancel()
            self.status.setText("Cancelling: the runs in progress stop, finished rows are kept…")

    def _on_planned(self, plan: SweepPlan) -> None:
        self.plan = plan
        table = SweepTable(Path("."), plan.param_names, plan.param_types)
        self.model.reset(
            display_columns(table, [a.name for a in plan.axes]), set(table.param_columns.values())
        )
        self.progress.setRange(0, len(plan.jobs))
        self.progress.setValue(0)
        params = plan.param_names
        swept = [a.name for a in plan.axes] or params
        self.heatmap.set_choices(swept + [p for p in params if p not in swept], metric_names(),
                                 self.setup.rank_metric.currentText())  # fmt: skip
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.table.resizeColumnsToContents()  # no rows yet: each column as wide as its name

    def _on_row(self, row: dict[str, Any], done: int, total: int) -> None:
        self.model.add_row(row)
        self.progress.setValue(done)
        self.status.setText(f"{done} of {total} runs · {time.monotonic() - self._started:.1f} s")
        self.heatmap.set_rows(self.model.rows)
        self.export_button.setEnabled(True)

    def _on_finished(self, result: SweepResult) -> None:
        if self.table.horizontalHeader().sortIndicatorSection() < 0:
            self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)  # run order, unless the user sorted
        self.progress.setRange(0, max(result.total, 1))
        self.progress.setValue(result.finished)
        bad = sum(1 for r in result.rows if r["status"] != "ok")
        took = time.monotonic() - self._started
        text = f"{result.finished} of {result.total} runs in {took:.1f} s"
        if result.cancelled:
            text = f"Cancelled: {text}"
        if bad:
            text += f" · {bad} not ok (see status and error)"
        out = self.sweep_thread.request.out_dir if self.sweep_thread is not None else None
        self.status.setText(f"{text} · saved in {out}")
        self.heatmap.set_rows(result.rows)
        log.info("Sweep finished: %s", text)
        self._update_buttons()

    def _on_failed(self, text: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText(f"⚠ {text}")
        log.error("Sweep failed: %s", text)
        self._update_buttons()

    # ---- results --------------------------------------------------------------------------------
    def _on_double_click(self, index: QModelIndex) -> None:
        """Ask for that run on screen: its files (one day's with --per-day), its parameters."""
        if self.plan is None:
            return
        row = self.model.rows[self.proxy.mapToSource(index).row()]
        job = self.plan.jobs[int(row["run"])]
        params = {name: row.get(col) for name, col in self._param_columns().items()}
        self.replay_requested.emit(self._strategy, params, list(job.files), job.from_ts)

    def _param_columns(self) -> dict[str, str]:
        assert self.plan is not None
        table = SweepTable(Path("."), self.plan.param_names, self.plan.param_types)
        return table.param_columns

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export Sweep Results", "sweep.csv", "CSV (*.csv)")
        if path:
            self.export(Path(path))

    def export(self, path: Path) -> int:
        try:
            n = export_csv(self.proxy, self.model, path)
        except OSError as exc:
            self.status.setText(f"⚠ cannot write {path}: {exc}")
            return 0
        self.status.setText(f"Exported {n} rows to {path}")
        return n

    # ---- closing --------------------------------------------------------------------------------
    # Closing the dialog only hides it: a running sweep goes on and its rows are there when it is
    # opened again. The window stops it when the application closes.
    def stop_and_wait(self) -> None:
        if self.sweep_thread is not None and self.sweep_thread.isRunning():
            self.sweep_thread.cancel()
            if not self.sweep_thread.wait(STOP_WAIT_MS):
                log.error("The sweep did not stop within %d s", STOP_WAIT_MS // 1000)
