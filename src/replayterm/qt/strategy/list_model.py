"""Table model of the loaded strategies: colour, name (with its enable check box), status,
position, net PnL and fills (open orders and the PnL parts in the tooltip). One ``dataChanged``
per frame for the numbers."""

from __future__ import annotations

import math

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor

from replayterm.core.session.views import StrategyInfo
from replayterm.core.strategy import StrategyStatus
from replayterm.qt import theme
from replayterm.qt.strategy.store import StrategyStore
from replayterm.qt.timefmt import format_utc

NAME_COL, STATUS_COL, POS_COL, PNL_COL, FILLS_COL = range(5)
HEADERS = ("Strategy", "Status", "Position", "Net PnL", "Fills")
ID_ROLE = Qt.ItemDataRole.UserRole + 1
NUMBERS_MS = 100  # live numbers refresh at 10 Hz: faster is unreadable and costs every frame

Index = QModelIndex | QPersistentModelIndex
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


def status_text(info: StrategyInfo) -> str:
    if info.status is StrategyStatus.FAILED:
        return "failed"
    if info.status is StrategyStatus.DISABLED:
        return "disabled"
    return "finished" if info.finished else "enabled"


def signed(value: float, decimals: int) -> str:
    if not math.isfinite(value):
        return "—"
    if abs(value) < 0.5 * 10**-decimals:
        return f"{0:.{decimals}f}"
    return f"{value:+,.{decimals}f}"


class StrategyListModel(QAbstractTableModel):
    enable_toggled = Signal(int, bool)  # strategy id, wanted state (the check box was clicked)

    def __init__(self, store: StrategyStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._ids: list[int] = []
        self._status_colours = {
            "enabled": QColor(theme.OK),
            "finished": QColor(theme.TEXT),
            "disabled": QColor(theme.DIM),
            "failed": QColor(theme.BAD),
        }
        self._pos, self._neg, self._dim = QColor(theme.BID), QColor(theme.ASK), QColor(theme.DIM)
        self._numbers_timer = QTimer(self, singleShot=True, interval=NUMBERS_MS)
        self._numbers_timer.timeout.connect(self._changed_all)
        store.structure_changed.connect(self._on_structure)
        store.numbers_changed.connect(self._on_numbers)

    def id_at(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, sid: int) -> int | None:
        try:
            return self._ids.index(sid)
        except ValueError:
            return None

    def _on_structure(self) -> None:
        ids = self.store.ids()
        if ids == self._ids:
            self._changed_all()
            return
        self.beginResetModel()
        self._ids = ids
        self.endResetModel()

    def _on_numbers(self) -> None:
        if not self._numbers_timer.isActive():
            self._numbers_timer.start()

    def _changed_all(self) -> None:
        if self._ids:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, len(HEADERS) - 1), [])

    # ---- QAbstractTableModel -----------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return HEADERS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return _LEFT if section <= STATUS_COL else _RIGHT
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == NAME_COL:
            base |= Qt.ItemFlag.ItemIsUserCheckable
        return base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        sid = self._ids[index.row()]
        info = self.store.info(sid)
        if info is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(info, col)
        if role == ID_ROLE:
            return sid
        if role == Qt.ItemDataRole.DecorationRole and col == NAME_COL:
            return self.store.colour(sid)
        if role == Qt.ItemDataRole.CheckStateRole and col == NAME_COL:
            on = info.status is StrategyStatus.ENABLED
            return Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(info, col)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _LEFT if col <= STATUS_COL else _RIGHT
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(info)
        return None

    def setData(self, index: Index, value: object, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or index.column() != NAME_COL:
            return False
        sid = self._ids[index.row()]
        on = Qt.CheckState(value) == Qt.CheckState.Checked if not isinstance(value, bool) else value
        # The worker answers with strategies_changed; the check box shows its answer, not the click.
        self.enable_toggled.emit(sid, bool(on))
        return False

    # ---- cells -------------------------------------------------------------------------------
    @staticmethod
    def _text(info: StrategyInfo, col: int) -> str:
        if col == NAME_COL:
            return info.name
        if col == STATUS_COL:
            return status_text(info)
        if col == POS_COL:
            return signed(info.position, 4)
        if col == PNL_COL:
            return signed(info.pnl.net, 2)
        return f"{info.fills:,}"

    def _foreground(self, info: StrategyInfo, col: int) -> QColor | None:
        if col == STATUS_COL:
            return self._status_colours[status_text(info)]
        value = info.pnl.net if col == PNL_COL else info.position if col == POS_COL else 0.0
        if col in (POS_COL, PNL_COL) and math.isfinite(value):
            return self._pos if value > 1e-12 else self._neg if value < -1e-12 else self._dim
        return None

    @staticmethod
    def _tooltip(info: StrategyInfo) -> str:
        p = info.pnl
        lines = [
            f"{info.name} ({info.class_name}) on {info.instrument}",
            f"source: {info.spec or 'a class given in code'}",
            f"position {info.position:+g} @ {info.avg_price:g}" if info.position else "flat",
            f"realized {p.realized:+,.4f}  unrealized {p.unrealized:+,.4f}  fees {p.fees:,.4f}",
            f"net {p.net:+,.4f} (marked at {p.mark:g})",
            f"{info.fills:,} fills, {info.signals:,} signals, {info.open_orders} open orders",
        ]
        if info.error is not None:
            lines.append(
                f"failed at {format_utc(info.error.ts)} in {info.error.callback}: {info.error.message}"
            )
        return "\n".join(lines)
