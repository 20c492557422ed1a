"""Time & sales model: newest print on top, aggregated, filtered, capped.

Prints sharing ``local_ts``, side and price become one row (summed size, count of prints).
History is kept columnar (numpy); the rows shown are the newest ``cap`` rows whose aggregated size
passes the minimum-size filter. Each frame costs one ``beginInsertRows`` at the top (plus one
removal at the bottom once the cap is reached); only a reset frame or a filter change resets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from replayterm.core.frames import Frame, TradeBatch
from replayterm.qt import theme
from replayterm.qt.models.column_buffer import ColumnBuffer
from replayterm.qt.numfmt import format_size, price_decimals
from replayterm.qt.timefmt import format_time_of_day

TIME_COL, PRICE_COL, SIZE_COL, COUNT_COL = range(4)
HEADERS = ("Time (UTC)", "Price", "Size", "#")
SIDE_ROLE = Qt.ItemDataRole.UserRole + 1
DEFAULT_CAP = 2000
HISTORY = 100_000

Index = QModelIndex | QPersistentModelIndex
_DTYPES = {"ts": np.int64, "price": np.float64, "size": np.float64, "side": np.int8, "count": np.int32}


@dataclass(slots=True)
class Prints:
    """Aggregated prints, columnar. Order depends on the holder (history: oldest first)."""

    ts: np.ndarray
    price: np.ndarray
    size: np.ndarray
    side: np.ndarray
    count: np.ndarray

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def take(self, idx: np.ndarray | slice) -> Prints:
        return Prints(self.ts[idx], self.price[idx], self.size[idx], self.side[idx], self.count[idx])

    def copy(self) -> Prints:
        return Prints(
            self.ts.copy(), self.price.copy(), self.size.copy(), self.side.copy(), self.count.copy()
        )

    @staticmethod
    def empty() -> Prints:
        return Prints(*(np.empty(0, dtype=dt) for dt in _DTYPES.values()))

    @staticmethod
    def concat(a: Prints, b: Prints) -> Prints:
        return Prints(*(np.concatenate([getattr(a, k), getattr(b, k)]) for k in _DTYPES))


LIQUIDATION = 2  # |side| of a liquidation print in the tape (side * 2)


def with_liquidations(trades: TradeBatch, liquidations: TradeBatch) -> TradeBatch:
    """Trades and liquidations in one batch; liquidations keep their side doubled (±2) so the
    tape draws them in their own style and filters them by their own size."""
    if len(liquidations) == 0:
        return trades
    side = liquidations.side.astype(np.int8) * np.int8(LIQUIDATION)
    side[side == 0] = LIQUIDATION  # unknown side: still a liquidation
    return TradeBatch(
        np.concatenate([trades.local_ts, liquidations.local_ts]),
        np.concatenate([trades.exch_ts, liquidations.exch_ts]),
        np.concatenate([trades.price, liquidations.price]),
        np.concatenate([trades.amount, liquidations.amount]),
        np.concatenate([trades.side.astype(np.int8), side]),
    )


def aggregate(trades: TradeBatch) -> Prints:
    """Merge prints with the same (local_ts, side, price); keep time order.

    Within one timestamp the rows are ordered by side, then by price in execution order
    (ascending for buys, descending for sells), which is how a sweep walks the book.
    """
    n = len(trades)
    if n == 0:
        return Prints.empty()
    ts, side, price = trades.local_ts, trades.side.astype(np.int8), trades.price
    order = np.lexsort((price * side, side, ts))
    ts, side, price, amount = ts[order], side[order], price[order], trades.amount[order]
    brk = np.ones(n, dtype=bool)
    brk[1:] = (ts[1:] != ts[:-1]) | (side[1:] != side[:-1]) | (price[1:] != price[:-1])
    starts = np.flatnonzero(brk)
    return Prints(
        ts=ts[starts].astype(np.int64),
        price=price[starts].astype(np.float64),
        size=np.add.reduceat(amount.astype(np.float64), starts),
        side=side[starts],
        count=np.diff(np.append(starts, n)).astype(np.int32),
    )


class TapeModel(QAbstractTableModel):
    def __init__(self, cap: int = DEFAULT_CAP, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cap = int(cap)
        self._min_size = 0.0
        self._liq_min_size = 0.0
        self._history = ColumnBuffer(HISTORY, _DTYPES)
        self._rows = Prints.empty()  # newest first
        self._decimals = 2
        self._fg = {
            1: theme.qcolor(theme.BID),
            -1: theme.qcolor(theme.ASK),
            0: theme.qcolor(theme.NEUTRAL),
            LIQUIDATION: theme.qcolor(theme.LIQ_BUY),
            -LIQUIDATION: theme.qcolor(theme.LIQ_SELL),
        }
        self._align_right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter

    @property
    def min_size(self) -> float:
        return self._min_size

    def set_min_size(self, value: float) -> None:
        value = max(0.0, float(value))
        if value == self._min_size:
            return
        self._min_size = value
        self.beginResetModel()
        self._rows = self._visible_from_history()
        self.endResetModel()

    @property
    def liq_min_size(self) -> float:
        return self._liq_min_size

    def set_liq_min_size(self, value: float) -> None:
        value = max(0.0, float(value))
        if value == self._liq_min_size:
            return
        self._liq_min_size = value
        self.beginResetModel()
        self._rows = self._visible_from_history()
        self.endResetModel()

    def _keep(self, p: Prints) -> np.ndarray:
        liq = np.abs(p.side) == LIQUIDATION
        return np.where(liq, p.size >= self._liq_min_size, p.size >= self._min_size)

    def _history_prints(self) -> Prints:
        h = self._history
        return Prints(
            h.column("ts"), h.column("price"), h.column("size"), h.column("side"), h.column("count")
        )

    def _visible_from_history(self) -> Prints:
        h = self._history_prints()
        keep = np.flatnonzero(self._keep(h))[-self.cap :][::-1]
        return h.take(keep)

    def apply_frame(self, frame: Frame) -> None:
        if frame.tick_size > 0:
            self._decimals = price_decimals(frame.tick_size)
        if frame.reset:
            self.beginResetModel()
            self._history.clear()
            self._append_history(aggregate(with_liquidations(frame.trades, frame.liquidations)))
            self._rows = self._visible_from_history()
            self.endResetModel()
            return
        if len(frame.trades) or len(frame.liquidations):
            self._append(aggregate(with_liquidations(frame.trades, frame.liquidations)))

    def _append_history(self, p: Prints) -> None:
        self._history.append(ts=p.ts, price=p.price, size=p.size, side=p.side, count=p.count)

    def _append(self, new: Prints) -> None:
        revived, new = self._merge_continuation(new)
        self._append_history(new)
        candidates = new.take(np.flatnonzero(self._keep(new)))
        if revived is not None:
            candidates = Prints.concat(revived, candidates)
        shown = candidates.take(slice(-self.cap, None)).take(slice(None, None, -1))
        m = len(shown)
        if m == 0:
            return
        excess = len(self._rows) + m - self.cap
        if excess > 0:
            first = max(0, len(self._rows) - excess)
            self.beginRemoveRows(QModelIndex(), first, len(self._rows) - 1)
            self._rows = self._rows.take(slice(0, first))
            self.endRemoveRows()
        self.beginInsertRows(QModelIndex(), 0, m - 1)
        self._rows = Prints.concat(shown, self._rows)
        self.endInsertRows()

    def _merge_continuation(self, new: Prints) -> tuple[Prints | None, Prints]:
        """A print group split across two frames (same key as the newest history row) is merged.

        Returns the merged row if it must now appear as a new row (it had been filtered out and
        the merge lifted it over the minimum size), and the groups still to append.
        """
        h = self._history
        if not len(new) or not len(h):
            return None, new
        key = (int(new.ts[0]), int(new.side[0]), float(new.price[0]))
        if (h.last("ts"), h.last("side"), h.last("price")) != key:
            return None, new
        hs, hc = h.column("size"), h.column("count")
        hs[-1] += new.size[0]
        hc[-1] += new.count[0]
        rest = new.take(slice(1, None))
        rows = self._rows
        if len(rows) and (int(rows.ts[0]), int(rows.side[0]), float(rows.price[0])) == key:
            rows.size[0], rows.count[0] = hs[-1], hc[-1]
            self.dataChanged.emit(self.index(0, 0), self.index(0, COUNT_COL), [])
            return None, rest
        limit = self._liq_min_size if abs(key[1]) == LIQUIDATION else self._min_size
        if hs[-1] >= limit:
            n = len(h)
            return self._history_prints().take(slice(n - 1, n)).copy(), rest
        return None, rest

    # ---- reading back ------------------------------------------------------------------------
    def rows(self) -> Prints:
        """The rows shown, newest first."""
        return self._rows

    # ---- QAbstractTableModel -----------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 4

    def row_texts(self, r: int) -> tuple[int, tuple[str, str, str, str]]:
        """Side and the four cell texts of row ``r`` (what the view paints)."""
        rows = self._rows
        n = int(rows.count[r])
        return int(rows.side[r]), (
            format_time_of_day(int(rows.ts[r])),
            f"{rows.price[r]:.{self._decimals}f}",
            format_size(float(rows.size[r])),
            "LIQ" if abs(int(rows.side[r])) == LIQUIDATION else (f"{n}" if n > 1 else ""),
        )

    def side_color(self, side: int) -> QColor:
        return self._fg.get(side, self._fg[0])

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        rows = self._rows
        if role == Qt.ItemDataRole.DisplayRole:
            return self.row_texts(r)[1][c]
        if role == Qt.ItemDataRole.ForegroundRole:
            return self.side_color(int(rows.side[r]))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._align_right
        if role == SIDE_ROLE:
            return int(rows.side[r])
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return HEADERS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return self._align_right
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
