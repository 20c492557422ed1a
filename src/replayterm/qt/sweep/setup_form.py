"""The sweep's setup: strategy, a values list per parameter, per-day, workers, ranking metric.

Each parameter of the strategy's ``Params`` gets one row holding a comma-separated list of
values, pre-filled with its default: one value keeps it fixed, several sweep it. Values are
checked (converted to the field's type) before anything runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from replayterm.batch import default_workers, metric_names, parse_grid_option, typed_axes
from replayterm.core.data.numfmt import plain
from replayterm.core.strategy import StrategyLoadError, available_strategies, load_strategy_class
from replayterm.qt.settings import open_settings
from replayterm.qt.strategy.panel import strategy_start_folder
from replayterm.qt.strategy.params_form import param_fields


def format_default(value: Any) -> str:
    """A parameter value as the grid parser reads it back: never in exponent form (1e-05)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = plain(value)
        return text if "." in text or not math.isfinite(value) else f"{text}.0"
    return "" if value is None else str(value)


def _one_instrument(name: str) -> bool:
    """Whether a registered strategy trades one instrument (a multi-leg one, such as basis, has
    an ``instruments`` parameter): the default when nothing is loaded."""
    try:
        cls = load_strategy_class(name)
    except StrategyLoadError:
        return False
    return not any(f.name == "instruments" for f in param_fields(cls.Params))


class SweepSetup(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.strategy = QComboBox(self)
        self.strategy.setEditable(True)
        self.strategy.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.strategy.setMinimumContentsLength(28)
        self.strategy.currentTextChanged.connect(self._strategy_changed)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels(["Parameter", "Values (comma-separated; several = swept)"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.per_day = QCheckBox("Run each day apart", self)
        self.per_day.setToolTip("One run per UTC day of the open data for every combination")
        self.workers = QSpinBox(self)
        self.workers.setRange(1, 256)
        self.workers.setValue(default_workers())
        self.workers.setToolTip("Local worker processes (the runs never use the window's thread)")
        self.rank_metric = QComboBox(self)
        self.rank_metric.addItems(metric_names())
        self.rank_metric.setCurrentText("net_pnl")
        self.count = QLabel("", self)
        self.count.setObjectName("dimLabel")
        self.table.itemChanged.connect(lambda _: self._update_count())
        self.per_day.toggled.connect(lambda _: self._update_count())

        row = QHBoxLayout()
        row.addWidget(self.strategy, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Strategy", row)
        options = QHBoxLayout()
        options.addWidget(self.per_day)
        options.addStretch(1)
        options.addWidget(QLabel("Workers", self))
        options.addWidget(self.workers)
        options.addWidget(QLabel("Rank by", self))
        options.addWidget(self.rank_metric)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addLayout(options)
        layout.addWidget(self.count)
        self._params_type: type | None = None

    def set_strategies(self, specs: Sequence[str]) -> None:
        """Offer the registered strategies and ``specs`` (files loaded in the window)."""
        current = self.strategy.currentText()
        names = list(dict.fromkeys([*specs, *sorted(available_strategies())]))
        self.strategy.blockSignals(True)
        self.strategy.clear()
        self.strategy.addItems(names)
        self.strategy.blockSignals(False)
        registered = sorted(available_strategies())
        default = specs[0] if specs else next((n for n in registered if _one_instrument(n)), "")
        self.strategy.setCurrentText(current if current and not specs else (default or current))
        self._strategy_changed(self.strategy.currentText())

    def _browse(self) -> None:
        start = strategy_start_folder(open_settings(), [self.strategy.currentText()])
        path, _ = QFileDialog.getOpenFileName(self, "Strategy File", start, "Python (*.py)")
        if path:
            self.strategy.setCurrentText(path)

    def _strategy_changed(self, spec: str) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        self._params_type = None
        try:
            cls = load_strategy_class(spec) if spec else None
        except StrategyLoadError as exc:
            self.count.setText(str(exc).splitlines()[0])
            cls = None
        if cls is not None:
            self._params_type = cls.Params
            for spec_field in param_fields(cls.Params):
                r = self.table.rowCount()
                self.table.insertRow(r)
                name = QTableWidgetItem(spec_field.name)
                name.setFlags(name.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(r, 0, name)
                self.table.setItem(r, 1, QTableWidgetItem(format_default(spec_field.default)))
        self.table.resizeColumnToContents(0)
        self.table.blockSignals(False)
        self._update_count()

    def set_values(self, values: dict[str, str]) -> None:
        """Put value lists in the table (by parameter name), e.g. ``{"size": "0.01,0.02"}``."""
        for r in range(self.table.rowCount()):
            name, cell = self._cells(r)
            if name in values:
                cell.setText(values[name])

    def grid_and_fixed(self) -> tuple[list[tuple[str, list[str]]], dict[str, str]]:
        """(swept parameters with their values, fixed ones). ValueError names a bad entry."""
        grid: list[tuple[str, list[str]]] = []
        fixed: dict[str, str] = {}
        for r in range(self.table.rowCount()):
            name, cell = self._cells(r)
            text = cell.text().strip()
            if not text:
                continue
            _, values = parse_grid_option(f"{name}={text}")
            if len(values) > 1:
                grid.append((name, values))
            else:
                fixed[name] = values[0]
        if self._params_type is not None:
            typed_axes(self._params_type, grid, fixed)
        return grid, fixed

    def _cells(self, row: int) -> tuple[str, QTableWidgetItem]:
        name, values = self.table.item(row, 0), self.table.item(row, 1)
        assert name is not None
        assert values is not None
        return name.text(), values

    def _update_count(self) -> None:
        try:
            grid, _ = self.grid_and_fixed()
        except ValueError as exc:
            self.count.setText(f"⚠ {exc}")
            return
        n = 1
        for _, values in grid:
            n *= len(values)
        swept = ", ".join(name for name, _ in grid) or "nothing (one run)"
        days = " per day" if self.per_day.isChecked() else ""
        self.count.setText(f"{n} combination{'s' if n != 1 else ''}{days} · sweeping {swept}")
