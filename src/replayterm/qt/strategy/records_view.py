"""Fills or signals table: newest on top; double-click a row to seek the replay to its time."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from replayterm.qt import theme
from replayterm.qt.strategy.records_model import RecordTableModel

ROW_HEIGHT = 19
_SAMPLES = {  # typical widest content per column title
    "Time (UTC)": "00:00:00.000",
    "Strategy": "imbalance_momentum",
    "Price": "000,000.00",
    "Mid": "000,000.00",
    "Kind": "max_short",
    "Liq.": "Maker",
}


class RecordsView(QWidget):
    seek_requested = Signal("qint64")  # type: ignore[arg-type]

    def __init__(self, model: RecordTableModel, noun: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._noun = noun
        self.table = QTableView(self)
        self.table.setModel(model)
        self.table.setFont(theme.mono_font(9))
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vh = self.table.verticalHeader()
        vh.hide()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(ROW_HEIGHT)
        hh = self.table.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        metrics = self.table.fontMetrics()
        for col in range(model.columnCount()):
            title = str(model.headerData(col, Qt.Orientation.Horizontal))
            sample = max(title, _SAMPLES.get(title, "-0.0000"), key=len)
            extra = 46 if title == "Strategy" else 22  # the colour swatch
            hh.resizeSection(col, metrics.horizontalAdvance(sample) + extra)
        self.table.doubleClicked.connect(self._on_double_click)

        self.count = QLabel("", self)
        self.count.setObjectName("dimLabel")
        hint = QLabel("double-click a row to go to its time", self)
        hint.setObjectName("dimLabel")
        hint.setMinimumWidth(0)
        hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 3, 6, 3)
        bar.addWidget(self.count)
        bar.addStretch(1)
        bar.addWidget(hint)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        for sig in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            sig.connect(self._update_count)
        self._update_count()

    def _update_count(self, *_: object) -> None:
        n = self.model.rowCount()
        self.count.setText(f"{n:,} {self._noun}{'' if n == 1 else 's'}")

    def _on_double_click(self, index: QModelIndex) -> None:
        ts = self.model.ts_at(index.row())
        if ts is not None:
            self.seek_requested.emit(ts)
