"""Depth ladder (DOM) model: a fixed window of price rows around the touch.

The row count only changes when the view is resized; every frame rewrites the row arrays in
place and emits one ``dataChanged`` covering the table (none when nothing visible changed).
Rows run from the highest price (row 0) down. With grouping ``g`` ticks, bid levels fall into
the bucket below (floor) and ask levels into the bucket above (ceil), so a bucket never mixes
the two sides.

The strategies' own resting orders (``StrategyFrame.resting`` of the enabled strategies trading
the shown instrument) are marked in the row of their price: buys in the bid column, sells in the
ask column, with their size, the estimated queue ahead and the strategy colour. They are part of
the same per-frame refresh (no extra ``dataChanged``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from replayterm.core.data.numfmt import plain
from replayterm.core.frames import Frame
from replayterm.core.strategy import StrategyStatus
from replayterm.qt.numfmt import format_size, price_decimals

GROUPINGS = (1, 2, 5, 10, 25, 100)

BID_COL, PRICE_COL, ASK_COL = 0, 1, 2

BAR_ROLE = Qt.ItemDataRole.UserRole + 1
FLAGS_ROLE = Qt.ItemDataRole.UserRole + 2
OWN_ROLE = Qt.ItemDataRole.UserRole + 3  # own orders in a cell: (size, queue ahead, [colour]), or None

# Row flags (FLAGS_ROLE)
BEST_BID = 1
BEST_ASK = 2
LAST_BUY = 4
LAST_SELL = 8
LAST_TRADE = 16
BID_ZONE = 32  # at or below the best bid
ASK_ZONE = 64  # at or above the best ask

_EMPTY_LEVELS = np.empty((0, 2), dtype=np.float64)
BAR_QUANTILE = 0.9
_ALIGN = (
    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
    Qt.AlignmentFlag.AlignCenter,
    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
)

Index = QModelIndex | QPersistentModelIndex


def compact(v: float) -> str:
    """At most four characters for a queue or order size: ``0``, ``0.25``, ``3.4``, ``12``, ``1.2k``."""
    a = abs(v)
    if a < 5e-4:
        return "0"
    if a >= 1000:
        return f"{v / 1000:.1f}k" if a < 9950 else f"{v / 1000:.0f}k"
    if a >= 9.95:
        return f"{v:.0f}"
    if a >= 1:
        return f"{v:.1f}"
    return f"{v:.3f}".rstrip("0").rstrip(".") if a < 0.01 else f"{v:.2f}".rstrip("0").rstrip(".")


OwnCell = tuple[str, str, list[str], str]  # size text, queue-ahead text, strategy colours, tooltip


def own_orders(frame: Frame) -> list[tuple[float, int, float, float, float, str, str]]:
    """(price, side, leaves, queue ahead, level size, colour, strategy name) of the resting
    orders of the enabled strategies that trade the frame's instrument."""
    out = []
    for sf in getattr(frame, "strategies", ()):
        info = sf.info
        if info.status is not StrategyStatus.ENABLED or (frame.symbol and info.instrument != frame.symbol):
            continue
        for o in sf.resting:
            out.append((o.price, o.side, o.leaves, o.queue_ahead, o.level_size, info.colour, info.name))
    return out


def _infer_tick(bids: np.ndarray, asks: np.ndarray) -> float:
    prices = np.unique(np.concatenate([bids[:, 0], asks[:, 0]]))
    steps = np.diff(prices)
    steps = steps[steps > 0]
    return float(steps.min()) if steps.size else 1.0


class LadderModel(QAbstractTableModel):
    auto_center_changed = Signal(bool)

    def __init__(self, rows: int = 41, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows = max(1, int(rows))
        self._grouping = 1
        self._auto_center = True
        self._top: int | None = None  # bucket index of row 0
        self._tick = float("nan")
        self._decimals = 2
        self._bids = _EMPTY_LEVELS
        self._asks = _EMPTY_LEVELS
        self._last_price = float("nan")
        self._last_side = 0
        self._orders: list[tuple[float, int, float, float, float, str, str]] = []
        self._mbo: Any = None  # the frame's OrderLevels (market-by-order data), else None
        self._key: tuple[object, ...] = ()
        self._size_decimals = -1
        self._alloc()

    # ---- state -------------------------------------------------------------------------------
    def _alloc(self) -> None:
        n = self._rows
        self._price = np.full(n, np.nan)
        self._bid = np.zeros(n)
        self._ask = np.zeros(n)
        self._flags = np.zeros(n, dtype=np.int32)
        empty = [""] * n
        self._text: tuple[list[str], list[str], list[str]] = (empty, list(empty), list(empty))
        zeros = [0.0] * n
        self._frac: tuple[list[float], list[float], list[float]] = (zeros, list(zeros), list(zeros))
        self._flag_list = [0] * n
        self._own: dict[tuple[int, int], OwnCell] = {}
        self._counts: tuple[np.ndarray, np.ndarray] = (np.zeros(n, np.int64), np.zeros(n, np.int64))
        self._queues: dict[tuple[int, int], str] = {}  # (row, column) -> the orders there (MBO tooltip)
        self._key = ()

    @property
    def grouping(self) -> int:
        return self._grouping

    @property
    def auto_center(self) -> bool:
        return self._auto_center

    @property
    def tick_size(self) -> float:
        return self._tick

    def set_row_count(self, rows: int) -> None:
        rows = max(1, int(rows))
        if rows == self._rows:
            return
        center = None if self._top is None else self._top - self._rows // 2
        self.beginResetModel()
        self._rows = rows
        if center is not None:
            self._top = center + rows // 2
        self._alloc()
        self._recompute()
        self.endResetModel()

    def set_grouping(self, ticks: int) -> None:
        ticks = int(ticks)
        if ticks <= 0 or ticks == self._grouping:
            return
        if self._top is not None:
            center_ticks = (self._top - self._rows // 2) * self._grouping
            self._top = round(center_ticks / ticks) + self._rows // 2
        self._grouping = ticks
        self._refresh()

    def set_auto_center(self, on: bool) -> None:
        if on == self._auto_center:
            return
        self._auto_center = on
        self.auto_center_changed.emit(on)
        self._refresh()

    def scroll(self, rows: int) -> None:
        """Move the window ``rows`` buckets up (positive: towards higher prices); locks it."""
        if self._top is None or rows == 0:
            return
        self._top += int(rows)
        if self._auto_center:
            self._auto_center = False
            self.auto_center_changed.emit(False)
        self._refresh()

    def recenter(self) -> None:
        """Center on the touch once, without changing the auto-center mode."""
        keep = self._auto_center
        self._auto_center = True
        self._recompute()
        self._auto_center = keep
        self._emit_changed()

    # ---- frames ------------------------------------------------------------------------------
    def apply_frame(self, frame: Frame) -> None:
        bids = frame.bids if frame.bids.size else _EMPTY_LEVELS
        asks = frame.asks if frame.asks.size else _EMPTY_LEVELS
        tick = frame.tick_size
        self._size_decimals = frame.size_decimals
        if not (math.isfinite(tick) and tick > 0):
            tick = self._tick if math.isfinite(self._tick) else _infer_tick(bids, asks)
        if tick != self._tick:  # another instrument: bucket indices change meaning
            self._tick = tick
            self._top = None
        self._bids, self._asks = bids, asks
        self._orders = own_orders(frame)
        self._mbo = frame.orders
        if frame.reset:
            self._last_price, self._last_side = float("nan"), 0
        if len(frame.trades):
            self._last_price = float(frame.trades.price[-1])
            self._last_side = int(frame.trades.side[-1])
        self._refresh()

    def _refresh(self) -> None:
        if self._recompute():
            self._emit_changed()

    def _emit_changed(self) -> None:
        self.dataChanged.emit(self.index(0, 0), self.index(self._rows - 1, 2), [])

    def _recompute(self) -> bool:
        """Rebuild the row arrays; True when anything visible changed."""
        tick = self._tick
        if not (math.isfinite(tick) and tick > 0):
            return False
        n, g = self._rows, self._grouping
        bt = np.rint(self._bids[:, 0] / tick).astype(np.int64)
        at = np.rint(self._asks[:, 0] / tick).astype(np.int64)
        bb = np.floor_divide(bt, g)
        ab = -np.floor_divide(-at, g)
        best_b = int(bb.max()) if bb.size else None
        best_a = int(ab.min()) if ab.size else None
        if self._auto_center or self._top is None:
            center: int | None
            if best_b is not None and best_a is not None:
                center = (best_b + best_a) // 2
            elif best_b is not None or best_a is not None:
                center = best_b if best_b is not None else best_a
            else:
                center = None
            if center is not None:
                self._top = int(center) + n // 2
        if self._top is None:
            return False
        top = self._top
        rb, ra = top - bb, top - ab
        mb = (rb >= 0) & (rb < n)
        ma = (ra >= 0) & (ra < n)
        bid: np.ndarray = np.bincount(rb[mb], weights=self._bids[mb, 1], minlength=n)[:n]
        ask: np.ndarray = np.bincount(ra[ma], weights=self._asks[ma, 1], minlength=n)[:n]
        buckets = top - np.arange(n, dtype=np.int64)
        flags = np.zeros(n, dtype=np.int32)
        if best_b is not None:
            flags[buckets <= best_b] |= BID_ZONE
            flags[buckets == best_b] |= BEST_BID
        if best_a is not None:
            flags[buckets >= best_a] |= ASK_ZONE
            flags[buckets == best_a] |= BEST_ASK
        if math.isfinite(self._last_price):
            lt = self._last_price / tick / g
            side = self._last_side
            bucket = math.ceil(lt - 1e-9) if side > 0 else math.floor(lt + 1e-9) if side < 0 else round(lt)
            row = top - bucket
            if 0 <= row < n:
                flags[row] |= LAST_TRADE | (LAST_BUY if side > 0 else LAST_SELL if side < 0 else 0)
        key = (top, g, tick, self._size_decimals)
        own = self._own_cells(top, n, g, tick)
        counts = (np.zeros(n, np.int64), np.zeros(n, np.int64))
        mbo = self._mbo
        if (
            mbo is not None
            and mbo.bid_counts.shape[0] == mb.shape[0]
            and mbo.ask_counts.shape[0] == ma.shape[0]
        ):
            counts = (
                np.bincount(rb[mb], weights=mbo.bid_counts[mb], minlength=n)[:n].astype(np.int64),
                np.bincount(ra[ma], weights=mbo.ask_counts[ma], minlength=n)[:n].astype(np.int64),
            )
        if (
            key == self._key
            and np.array_equal(bid, self._bid)
            and np.array_equal(ask, self._ask)
            and np.array_equal(flags, self._flags)
            and own == self._own
            and np.array_equal(counts[0], self._counts[0])
            and np.array_equal(counts[1], self._counts[1])
        ):
            return False
        self._own = own
        self._counts = counts
        self._queues = self._queue_tips(rb, mb, ra, ma, g) if mbo is not None else {}
        if key != self._key:
            self._decimals = price_decimals(tick * g)
            self._price = buckets * g * tick
            d = self._decimals
            self._text = (self._text[0], [f"{p:.{d}f}" for p in self._price.tolist()], self._text[2])
        self._key = key
        self._bid, self._ask, self._flags = bid, ask, flags
        # Bars scale to a high quantile, not the maximum: one wall would flatten every other bar.
        sizes = np.concatenate([bid[bid > 0], ask[ask > 0]])
        peak = float(np.quantile(sizes, BAR_QUANTILE)) if sizes.size else 1.0
        peak = peak if peak > 0 else 1.0
        sd = self._size_decimals
        self._text = (
            _sized(bid.tolist(), counts[0].tolist(), mbo is not None, sd),
            self._text[1],
            _sized(ask.tolist(), counts[1].tolist(), mbo is not None, sd),
        )
        self._frac = (
            np.minimum(bid / peak, 1.0).tolist(),
            self._frac[1],
            np.minimum(ask / peak, 1.0).tolist(),
        )
        self._flag_list = flags.tolist()
        return True

    def _queue_tips(
        self, rb: np.ndarray, mb: np.ndarray, ra: np.ndarray, ma: np.ndarray, g: int
    ) -> dict[tuple[int, int], str]:
        """Per ladder cell of a single price (grouping 1): its orders, front of the queue first."""
        mbo = self._mbo
        if g != 1 or mbo is None:
            return {}
        tips: dict[tuple[int, int], str] = {}
        for col, rows, mask, counts, sizes in ((0, rb, mb, mbo.bid_counts, mbo.bid_sizes),
                                                (2, ra, ma, mbo.ask_counts, mbo.ask_sizes)):  # fmt: skip
            for i in np.flatnonzero(mask).tolist():
                n = int(counts[i])
                if n <= 0:
                    continue
                shown = [plain(float(x)) for x in sizes[i][: min(n, sizes.shape[1])].tolist()]
                more = f" … and {n - len(shown)} more" if n > len(shown) else ""
                noun = "order" if n == 1 else "orders"
                tips[(int(rows[i]), col)] = f"{n} {noun}, front of the queue first: {', '.join(shown)}{more}"
        return tips

    def _own_cells(self, top: int, n: int, g: int, tick: float) -> dict[tuple[int, int], OwnCell]:
        if not self._orders:
            return {}
        d = price_decimals(tick)
        cells: dict[tuple[int, int], list[tuple[float, int, float, float, float, str, str]]] = {}
        for order in self._orders:
            price, side = order[0], order[1]
            t = round(price / tick)
            bucket = t // g if side > 0 else -((-t) // g)
            row = top - bucket
            if 0 <= row < n:
                cells.setdefault((row, BID_COL if side > 0 else ASK_COL), []).append(order)
        out = {}
        for cell, orders in cells.items():
            leaves = sum(o[2] for o in orders)
            queue = min(o[3] for o in orders)
            colours = list(dict.fromkeys(o[5] for o in orders))
            tip = "\n".join(
                f"{o[6]}: {'buy' if o[1] > 0 else 'sell'} {o[2]:g} @ {o[0]:.{d}f} · "
                f"{o[3]:g} ahead in the queue of {o[4]:g}"
                for o in orders
            )
            out[cell] = (compact(leaves), compact(queue), colours, tip)
        return out

    # ---- reading back ------------------------------------------------------------------------
    def levels(self) -> list[tuple[float, float, float]]:
        """What the ladder shows, top row first: (price, bid size, ask size)."""
        d = self._decimals + 2
        return [
            (round(p, d), b, a)
            for p, b, a in zip(self._price.tolist(), self._bid.tolist(), self._ask.tolist(), strict=True)
        ]

    def cell(self, row: int, col: int) -> tuple[str, float, int]:
        """Text, bar fraction and row flags in one call (the delegate's fast path)."""
        return self._text[col][row], self._frac[col][row], self._flag_list[row]

    def own(self, row: int, col: int) -> OwnCell | None:
        """Own orders in a cell: (size, queue ahead, strategy colours, tooltip), or None."""
        return self._own.get((row, col))

    def own_cells(self) -> dict[tuple[int, int], OwnCell]:
        return dict(self._own)

    def row_of_price(self, price: float) -> int | None:
        if self._top is None or not math.isfinite(self._tick):
            return None
        row = self._top - round(price / self._tick / self._grouping)
        return row if 0 <= row < self._rows else None

    # ---- QAbstractTableModel -----------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 3

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text[c][r]
        if role == BAR_ROLE:
            return self._frac[c][r]
        if role == FLAGS_ROLE:
            return self._flag_list[r]
        if role == OWN_ROLE:
            own = self._own.get((r, c))
            return None if own is None else own[:3]
        if role == Qt.ItemDataRole.ToolTipRole:
            own = self._own.get((r, c))
            return self._queues.get((r, c)) if own is None else own[3]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _ALIGN[c]
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return ("Bid", "Price", "Ask")[section]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return Qt.ItemFlag.ItemIsEnabled


def _sized(sizes: list[float], counts: list[int], mbo: bool, decimals: int = -1) -> list[str]:
    """Size text per row, at the instrument's size ``decimals``; with market-by-order data the
    order count follows (``19 ·4``)."""
    if not mbo:
        return [format_size(v, decimals) if v > 0 else "" for v in sizes]
    return [
        f"{format_size(v, decimals)} ·{n}" if v > 0 and n > 0 else format_size(v, decimals) if v > 0 else ""
        for v, n in zip(sizes, counts, strict=True)
    ]
