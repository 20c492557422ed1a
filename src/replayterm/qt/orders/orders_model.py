"""``OrdersModel``: one strategy's orders as a table model, newest first. A refresh replaces the
row list in one reset; cells are formatted only when the view asks for them (visible rows), so
a strategy with tens of thousands of orders refreshes in constant GUI time."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from replayterm.core.data.numfmt import plain
from replayterm.qt import theme

COLUMNS = ("ID", "Side", "Price", "Amount", "Outcome", "Why")
OUTCOME_COLOURS = {"filled": theme.OK, "partly filled": theme.WARN, "rejected": theme.BAD}

_Index = QModelIndex | QPersistentModelIndex


class OrdersModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self._rows: list[dict[str, Any]] = []
        self._ids: list[int] = []
        self._bid = QColor(theme.BID)
        self._ask = QColor(theme.ASK)
        self._dim = QColor(theme.DIM)
        self._outcome = {k: QColor(v) for k, v in OUTCOME_COLOURS.items()}

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        """``rows`` oldest first, as the worker sends them."""
        self.beginResetModel()
        self._rows = rows[::-1]
        self._ids = [int(r["order_id"]) for r in self._rows]
        self.endResetModel()

    def order_id(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, order_id: int) -> int | None:
        try:
            return self._ids.index(order_id)
        except ValueError:
            return None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: _Index, role: int = 0) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == 1:
                return self._bid if row["side"] == "buy" else self._ask
            if col == 4:
                return self._outcome.get(row["outcome"], self._dim)
        return None

    @staticmethod
    def _text(row: dict[str, Any], col: int) -> str:
        if col == 0:
            return str(row["order_id"])
        if col == 1:
            return str(row["side"])
        if col == 2:
            return "market" if row["price"] is None else plain(float(row["price"]))
        if col == 3:
            return plain(float(row["amount"]))
        return str(row["outcome"] if col == 4 else row["reason"])
