"""Time & sales model: newest print on top, aggregated, filtered, capped.

The prints of one taker order become one row, as Bookmap and ATAS show them: contiguous prints of
one side at one exchange time (a sweep: one exchange timestamp, consecutive-µs receive stamps, a
print per level) have the summed size, the last (furthest) price and the count of prints; the
row expands into its price levels (``toggle_expanded``). With ``merge_orders`` off, only prints
sharing ``local_ts``, side and price merge. The time column shows the receive or the exchange
time (``set_time_axis``).
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
_DTYPES = {
    "ts": np.int64,
    "price": np.float64,
    "size": np.float64,
    "side": np.int8,
    "count": np.int32,
    "exch": np.int64,
    "detail": np.int8,  # 1: a price level of the expanded row above it
}
TIME_AXES = ("receive", "exchange")


@dataclass(slots=True)
class Prints:
    """Aggregated prints, columnar. Order depends on the holder (history: oldest first)."""

    ts: np.ndarray
    price: np.ndarray
    size: np.ndarray
    side: np.ndarray
    count: np.ndarray
    exch: np.ndarray
    detail: np.ndarray

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def take(self, idx: np.ndarray | slice) -> Prints:
        return Prints(*(getattr(self, k)[idx] for k in _DTYPES))

    def copy(self) -> Prints:
        return Prints(*(getattr(self, k).copy() for k in _DTYPES))

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


def aggregate(trades: TradeBatch, merge_orders: bool = False) -> Prints:
    """Merge prints with the same (local_ts, side, price); keep time order. With
    ``merge_orders``, also merge contiguous prints of one side at one exchange time (one taker
    order): the row keeps the first receive time, the last price and the summed size.

    Within one timestamp the rows are ordered by side, then by price in execution order
    (ascending for buys, descending for sells), which is how a sweep walks the book.
    """
    n = len(trades)
    if n == 0:
        return Prints.empty()
    ts, side, price = trades.local_ts, trades.side.astype(np.int8), trades.price
    order = np.lexsort((price * side, side, ts))
    ts, side, price, amount = ts[order], side[order], price[order], trades.amount[order]
    exch = np.asarray(trades.exch_ts, dtype=np.int64)[order]
    brk = np.ones(n, dtype=bool)
    same_print = (ts[1:] == ts[:-1]) & (side[1:] == side[:-1]) & (price[1:] == price[:-1])
    if merge_orders:
        one_order = (exch[1:] == exch[:-1]) & (side[1:] == side[:-1]) & (np.abs(side[1:]) != LIQUIDATION)
        brk[1:] = ~(same_print | one_order)
    else:
        brk[1:] = ~same_print
    starts = np.flatnonzero(brk)
    ends = np.append(starts[1:], n) - 1
    return Prints(
        ts=ts[starts].astype(np.int64),
        price=price[ends].astype(np.float64),
        size=np.add.reduceat(amount.astype(np.float64), starts),
        side=side[starts],
        count=np.diff(np.append(starts, n)).astype(np.int32),
        exch=exch[starts],
        detail=np.zeros(starts.size, np.int8),
    )


def _by_price(pieces: Prints) -> Prints:
    """One row per price level of an order's prints, in execution order."""
    order = np.argsort(pieces.price * pieces.side.astype(np.float64), kind="stable")
    p = pieces.take(order)
    brk = np.ones(len(p), bool)
    brk[1:] = p.price[1:] != p.price[:-1]
    starts = np.flatnonzero(brk)
    out = p.take(starts).copy()
    out.size = np.add.reduceat(p.size, starts)
    out.count = np.add.reduceat(p.count, starts).astype(np.int32)
    return out


class TapeModel(QAbstractTableModel):
    def __init__(
        self, cap: int = DEFAULT_CAP, parent: QObject | None = None, merge_orders: bool = True
    ) -> None:
        super().__init__(parent)
        self.cap = int(cap)
        self.merge_orders = merge_orders
        self.time_axis = "receive"
        # Print by print (same time, side and price merged): the levels an expanded row shows.
        self._pieces = ColumnBuffer(HISTORY, _DTYPES)
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
        return Prints(*(h.column(k) for k in _DTYPES))

    def set_time_axis(self, axis: str) -> None:
        """Show the receive (``local_ts``) or the exchange time of each row."""
        if axis not in TIME_AXES:
            raise ValueError(f"time axis must be one of {TIME_AXES}, got {axis!r}")
        if axis != self.time_axis:
            self.time_axis = axis
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, TIME_COL, TIME_COL)
            if len(self._rows):
                self.dataChanged.emit(self.index(0, TIME_COL), self.index(len(self._rows) - 1, TIME_COL), [])

    def is_detail(self, r: int) -> bool:
        return bool(self._rows.detail[r])

    def toggle_expanded(self, r: int) -> None:
        """Show (or hide again) the price levels of the merged row ``r`` below it."""
        rows = self._rows
        if not 0 <= r < len(rows) or rows.detail[r]:
            return
        shown = 0
        while r + 1 + shown < len(rows) and rows.detail[r + 1 + shown]:
            shown += 1
        if shown:
            self.beginRemoveRows(QModelIndex(), r + 1, r + shown)
            keep = np.ones(len(rows), bool)
            keep[r + 1 : r + 1 + shown] = False
            self._rows = rows.take(np.flatnonzero(keep))
            self.endRemoveRows()
            return
        if rows.count[r] < 2:
            return
        p = self._pieces
        mine = np.flatnonzero(
            (p.column("exch") == rows.exch[r])
            & (p.column("side") == rows.side[r])
            & (p.column("ts") >= rows.ts[r])
        )
        if mine.size < 2:
            return
        pieces = Prints(*(p.column(k)[mine] for k in _DTYPES))
        pieces = _by_price(pieces)
        pieces.detail[:] = 1
        self.beginInsertRows(QModelIndex(), r + 1, r + len(pieces))
        self._rows = Prints.concat(
            Prints.concat(rows.take(slice(0, r + 1)), pieces), rows.take(slice(r + 1, None))
        )
        self.endInsertRows()

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
            self._pieces.clear()
            self._append_history(self._aggregate(with_liquidations(frame.trades, frame.liquidations)))
            self._rows = self._visible_from_history()
            self.endResetModel()
            return
        if len(frame.trades) or len(frame.liquidations):
            self._append(self._aggregate(with_liquidations(frame.trades, frame.liquidations)))

    def _aggregate(self, batch: TradeBatch) -> Prints:
        if self.merge_orders and len(batch):
            pieces = aggregate(batch)
            self._pieces.append(**{k: getattr(pieces, k) for k in _DTYPES})
        return aggregate(batch, self.merge_orders)

    def _append_history(self, p: Prints) -> None:
        self._history.append(**{k: getattr(p, k) for k in _DTYPES})

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
        last = (h.last("ts"), h.last("side"), h.last("price"))
        one_order = (
            self.merge_orders
            and h.last("exch") == int(new.exch[0])
            and h.last("side") == int(new.side[0])
            and abs(int(new.side[0])) != LIQUIDATION
        )
        if last != key and not one_order:
            return None, new
        row_key = (h.last("ts"), h.last("side"), h.last("exch"))
        hs, hc, hp = h.column("size"), h.column("count"), h.column("price")
        hs[-1] += new.size[0]
        hc[-1] += new.count[0]
        hp[-1] = new.price[0]  # the order's last price so far
        rest = new.take(slice(1, None))
        rows = self._rows
        top = 0
        while top < len(rows) and rows.detail[top]:
            top += 1
        if top < len(rows) and (int(rows.ts[top]), int(rows.side[top]), int(rows.exch[top])) == row_key:
            rows.size[top], rows.count[top], rows.price[top] = hs[-1], hc[-1], hp[-1]
            self.dataChanged.emit(self.index(top, 0), self.index(top, COUNT_COL), [])
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
        price = f"{rows.price[r]:.{self._decimals}f}"
        size = format_size(float(rows.size[r]))
        if rows.detail[r]:  # a price level of the expanded row above
            return int(rows.side[r]), ("└", price, size, f"{n}" if n > 1 else "")
        ts = int(rows.exch[r]) if self.time_axis == "exchange" else int(rows.ts[r])
        expandable = self.merge_orders and n > 1 and abs(int(rows.side[r])) != LIQUIDATION
        expanded = r + 1 < len(rows) and bool(rows.detail[r + 1])
        count = f"{n}{'▾' if expanded else '▸'}" if expandable else (f"{n}" if n > 1 else "")
        return int(rows.side[r]), (
            format_time_of_day(ts),
            price,
            size,
            "LIQ" if abs(int(rows.side[r])) == LIQUIDATION else count,
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
                if section == TIME_COL:
                    return "Exch time" if self.time_axis == "exchange" else "Receive time"
                return HEADERS[section]
            if role == Qt.ItemDataRole.ToolTipRole and section == TIME_COL:
                return "UTC; the exchange's own time of the print, or when it was received"
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return self._align_right
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
