"""The sweep's rows as a Qt table: numbers sort as numbers, empty cells sort last."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from replayterm.batch.results import format_cell

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex


class SweepResultsModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.columns: list[str] = []
        self.params: set[str] = set()
        self.rows: list[dict[str, Any]] = []

    def reset(self, columns: Sequence[str], params: set[str] | None = None) -> None:
        self.beginResetModel()
        self.columns = list(columns)
        self.params = set(params or ())
        self.rows = []
        self.endResetModel()

    def add_row(self, row: dict[str, Any]) -> None:
        n = len(self.rows)
        self.beginInsertRows(QModelIndex(), n, n)
        self.rows.append(row)
        self.endInsertRows()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column = self.columns[index.column()]
        value = self.rows[index.row()].get(column)
        if role == Qt.ItemDataRole.DisplayRole:
            if column in self.params:
                return format_cell(value)
            if isinstance(value, float):
                return "" if not math.isfinite(value) else f"{value:.6g}"
            if isinstance(value, str) and "\n" in value:
                return value.splitlines()[0]
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.ToolTipRole and isinstance(value, str) and value:
            return value
        if role == SORT_ROLE:
            return value
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, int | float):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section]
        return None


class SweepSortProxy(QSortFilterProxyModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)

    def lessThan(self, left: Index, right: Index) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if a is None or a == "":
            return False  # an empty cell sorts as the largest value
        if b is None or b == "":
            return True
        if isinstance(a, int | float) and isinstance(b, int | float):
            return a < b
        return str(a) < str(b)


def export_csv(proxy: QSortFilterProxyModel, model: SweepResultsModel, path: Path) -> int:
    """Write the rows in the order shown; returns how many."""
    with Path(path).open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(model.columns)
        for r in range(proxy.rowCount()):
            row = model.rows[proxy.mapToSource(proxy.index(r, 0)).row()]
            writer.writerow([format_cell(row.get(c)) for c in model.columns])
    return proxy.rowCount()
