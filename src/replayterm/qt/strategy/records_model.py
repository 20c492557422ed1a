"""Fills and signals of every loaded strategy as table models, newest row on top.

Rows are kept column-wise (numpy); each frame costs one ``beginInsertRows`` at the top for the
rows of all strategies together (sorted by time) and, past the cap, one removal at the bottom.
A strategy whose records were rewound (``StrategyFrame.reset``: seek, reload, new parameters)
has its rows dropped and replaced by the chunk, which is then its whole history.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from replayterm.core.frames import Frame
from replayterm.qt import theme
from replayterm.qt.numfmt import format_size, price_decimals
from replayterm.qt.strategy.buffers import GrowingColumns
from replayterm.qt.strategy.store import StrategyStore
from replayterm.qt.timefmt import format_time_of_day, format_utc

DEFAULT_CAP = 50_000
TS_ROLE = Qt.ItemDataRole.UserRole + 1
SID_ROLE = Qt.ItemDataRole.UserRole + 2

Index = QModelIndex | QPersistentModelIndex
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


class RecordTableModel(QAbstractTableModel):
    """Base: a capped, newest-first table of one record stream of every strategy."""

    HEADERS: ClassVar[tuple[str, ...]] = ()
    DTYPES: ClassVar[dict[str, Any]] = {}
    STREAM: ClassVar[str] = ""  # StrategyFrame attribute holding the RecordChunk

    def __init__(self, store: StrategyStore, cap: int = DEFAULT_CAP, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.cap = int(cap)
        self.rows = GrowingColumns({"ts": np.int64, "sid": np.int32, **self.DTYPES})
        self._decimals = 2
        self._bid, self._ask, self._dim = QColor(theme.BID), QColor(theme.ASK), QColor(theme.DIM)
        store.removed.connect(self.remove_strategies)

    # ---- frames ------------------------------------------------------------------------------
    def apply_frame(self, frame: Frame) -> None:
        if math.isfinite(frame.tick_size) and frame.tick_size > 0:
            self._decimals = price_decimals(frame.tick_size)
        resets: list[int] = []
        parts: list[dict[str, np.ndarray]] = []
        for sf in frame.strategies:
            sid = sf.info.handle.id
            if not self.store.knows(sid):
                continue
            if sf.reset:
                resets.append(sid)
            chunk = getattr(sf, self.STREAM)
            if len(chunk):
                cols = self._columns(chunk)
                cols["sid"] = np.full(len(chunk), sid, dtype=np.int32)
                parts.append(cols)
        new = self._concat(parts)
        k = 0 if new is None else new["ts"].shape[0]
        if resets or k > self.cap:
            self.beginResetModel()
            if resets:
                self.rows.keep(~np.isin(self.rows.column("sid"), resets))
            if new is not None:
                self.rows.append(**new)
                self._reorder(np.argsort(self.rows.column("ts"), kind="stable"))
            self.rows.drop_front(len(self.rows) - self.cap)
            self.endResetModel()
            return
        if new is None:
            return
        self.beginInsertRows(QModelIndex(), 0, k - 1)
        self.rows.append(**new)
        self.endInsertRows()
        extra = len(self.rows) - self.cap
        if extra > 0:
            n = len(self.rows)
            self.beginRemoveRows(QModelIndex(), n - extra, n - 1)
            self.rows.drop_front(extra)
            self.endRemoveRows()

    def remove_strategies(self, ids: list[int]) -> None:
        mask = np.isin(self.rows.column("sid"), ids)
        if not mask.any():
            return
        self.beginResetModel()
        self.rows.keep(~mask)
        self.endResetModel()

    def _reorder(self, order: np.ndarray) -> None:
        cols = {n: self.rows.column(n)[order].copy() for n in self.rows.names}
        self.rows.clear()
        self.rows.append(**cols)

    def _concat(self, parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray] | None:
        if not parts:
            return None
        cols = {n: np.concatenate([p[n] for p in parts]) for n in self.rows.names}
        if len(parts) > 1:
            order = np.argsort(cols["ts"], kind="stable")
            cols = {n: c[order] for n, c in cols.items()}
        return cols

    def _columns(self, chunk: Any) -> dict[str, np.ndarray]:
        raise NotImplementedError

    # ---- reading -----------------------------------------------------------------------------
    def _i(self, row: int) -> int:
        return len(self.rows) - 1 - row

    def ts_at(self, row: int) -> int | None:
        if not 0 <= row < len(self.rows):
            return None
        return int(self.rows.column("ts")[self._i(row)])

    def column(self, name: str, sid: int | None = None) -> np.ndarray:
        """A stored column in time order (oldest first), optionally of one strategy."""
        col = self.rows.column(name)
        return col if sid is None else col[self.rows.column("sid") == sid]

    def _price(self, value: float) -> str:
        return f"{value:,.{self._decimals}f}" if math.isfinite(value) else "—"

    # ---- QAbstractTableModel -----------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return self.HEADERS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return self._align(section)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        i, col = self._i(index.row()), index.column()
        sid = int(self.rows.column("sid")[i])
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return format_time_of_day(int(self.rows.column("ts")[i]))
            if col == 1:
                return self.store.name(sid)
            return self._text(i, col)
        if role == Qt.ItemDataRole.DecorationRole and col == 1:
            return self.store.colour(sid)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(i, col)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._align(col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{format_utc(int(self.rows.column('ts')[i]))} UTC · double-click to go there"
        if role == TS_ROLE:
            return int(self.rows.column("ts")[i])
        if role == SID_ROLE:
            return sid
        return None

    def _align(self, col: int) -> Qt.AlignmentFlag:
        return _LEFT if col <= 2 else _RIGHT

    def _text(self, i: int, col: int) -> str:
        raise NotImplementedError

    def _foreground(self, i: int, col: int) -> QColor | None:
        return None


class FillsModel(RecordTableModel):
    HEADERS = ("Time (UTC)", "Strategy", "Side", "Price", "Amount", "Fee", "Liq.", "Instrument")
    DTYPES: ClassVar[dict[str, Any]] = {
        "side": np.int8,
        "price": np.float64,
        "amount": np.float64,
        "fee": np.float64,
        "maker": np.bool_,
        "order_id": np.int64,
        "instrument": np.int16,
    }
    STREAM = "fills"
    instrument_names: tuple[str, ...] = ()  # set from the frames (index -> "exchange:symbol")

    def apply_frame(self, frame: Frame) -> None:
        if frame.instruments:
            self.instrument_names = tuple(frame.instruments)
        super().apply_frame(frame)

    def order_at(self, row: int) -> tuple[int, int] | None:
        """(strategy id, order id) of the fill shown in ``row``."""
        if not 0 <= row < len(self.rows):
            return None
        i = self._i(row)
        return int(self.rows.column("sid")[i]), int(self.rows.column("order_id")[i])

    def _columns(self, chunk: Any) -> dict[str, np.ndarray]:
        cols = {name: np.asarray(chunk[name]) for name in ("ts", *self.DTYPES) if name in chunk.columns}
        if "instrument" not in cols:
            cols["instrument"] = np.zeros(len(cols["ts"]), dtype=np.int16)
        return cols

    def _text(self, i: int, col: int) -> str:
        r = self.rows
        if col == 7:
            k = int(r.column("instrument")[i])
            names = self.instrument_names
            return names[k] if 0 <= k < len(names) else str(k)
        if col == 2:
            return "Buy" if r.column("side")[i] > 0 else "Sell"
        if col == 3:
            return self._price(float(r.column("price")[i]))
        if col == 4:
            return format_size(float(r.column("amount")[i]))
        if col == 5:
            return f"{float(r.column('fee')[i]):.6g}"
        return "Maker" if r.column("maker")[i] else "Taker"

    def _foreground(self, i: int, col: int) -> QColor | None:
        if col == 2:
            return self._bid if self.rows.column("side")[i] > 0 else self._ask
        if col in (6, 7):
            return self._dim
        return None

    def _align(self, col: int) -> Qt.AlignmentFlag:
        return _LEFT if col <= 2 or col >= 6 else _RIGHT


class SignalsModel(RecordTableModel):
    HEADERS = ("Time (UTC)", "Strategy", "Kind", "Strength", "Mid")
    DTYPES: ClassVar[dict[str, Any]] = {"kind": np.int32, "strength": np.float64, "price": np.float64}
    STREAM = "signals"

    def __init__(self, store: StrategyStore, cap: int = DEFAULT_CAP, parent: QObject | None = None) -> None:
        super().__init__(store, cap, parent)
        self._kinds: list[str] = []
        self._codes: dict[str, int] = {}

    def _code(self, kind: str) -> int:
        code = self._codes.get(kind)
        if code is None:
            code = self._codes[kind] = len(self._kinds)
            self._kinds.append(kind)
        return code

    def _columns(self, chunk: Any) -> dict[str, np.ndarray]:
        kinds = chunk["kind"]
        return {
            "ts": np.asarray(chunk["ts"]),
            "kind": np.fromiter((self._code(str(k)) for k in kinds), dtype=np.int32, count=len(kinds)),
            "strength": np.asarray(chunk["strength"]),
            "price": np.asarray(chunk["price"]),
        }

    def kind_of(self, code: int) -> str:
        return self._kinds[code]

    def kinds(self, sid: int | None = None) -> list[str]:
        return [self._kinds[c] for c in self.column("kind", sid).tolist()]

    def _text(self, i: int, col: int) -> str:
        r = self.rows
        if col == 2:
            return self._kinds[int(r.column("kind")[i])]
        if col == 3:
            return f"{float(r.column('strength')[i]):+.4g}"
        return self._price(float(r.column("price")[i]))

    def _foreground(self, i: int, col: int) -> QColor | None:
        if col == 3:
            s = float(self.rows.column("strength")[i])
            return self._bid if s > 0 else self._ask if s < 0 else self._dim
        return None
