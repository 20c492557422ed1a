"""Two columns beside the depth ladder: volume traded at each price and pulling/stacking.

*Volume* is the session's traded volume at the row's prices (from ``core.flow``, exact, the
same as ``replayterm profile --sessions``), drawn as a bar split into sold (red, left) and bought
(green, right) with the total as text. *Δ N s* is the change of the resting size at the row over
the last N seconds of replay time: positive (green) when size was added (stacking), negative
(red) when it was pulled. It is computed from the ladder's own frames, so it restarts after a
seek (N seconds later it is complete again).
"""

from __future__ import annotations

import bisect
import math
from collections import deque

import numpy as np
from PySide6.QtCore import QPoint, QRect, Qt, QTimer
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QComboBox, QWidget

from replayterm.core.flow.view import FlowFrame, FlowRequest
from replayterm.core.frames import Frame
from replayterm.qt import theme
from replayterm.qt.flow.view import OrderFlowView
from replayterm.qt.models.ladder_model import compact
from replayterm.qt.views.ladder_view import LadderView

VOL_W = 84
DELTA_W = 56
WINDOWS_S = (5, 10, 30, 60)
HISTORY_S = 65
REQUEST_MS = 250


class LadderFlowColumns(QWidget):
    def __init__(self, ladder: LadderView, flow: OrderFlowView) -> None:
        super().__init__(ladder)
        self.ladder, self.flow = ladder, flow
        self.setFixedWidth(VOL_W + DELTA_W)
        self.window_box = QComboBox(ladder)
        for s in WINDOWS_S:
            self.window_box.addItem(f"Δ {s} s", s)
        self.window_box.setCurrentIndex(1)
        self.window_box.setToolTip("Pulling/stacking: change of resting size over this much replay time")
        self.window_box.currentIndexChanged.connect(lambda _i: self.update())
        self._history: deque[tuple[int, dict[float, float], dict[float, float]]] = deque()
        self._times: list[int] = []
        self._now: int | None = None
        self._tick = math.nan
        self._prof_ticks = np.empty(0)
        self._prof_buy = np.empty(0)
        self._prof_sell = np.empty(0)
        self._connected = False
        self.crosshair: float | None = None
        self._timer = QTimer(self, singleShot=True, interval=REQUEST_MS)
        self._timer.timeout.connect(self._send)
        ladder.add_side_widget(self)
        ladder.add_tool_widget(self.window_box)

    # ---- data ------------------------------------------------------------------------------------
    def apply_frame(self, frame: Frame) -> None:
        if frame.reset:
            self._history.clear()
        self._now = int(frame.local_ts)
        self._tick = frame.tick_size
        bids = (
            dict(zip(frame.bids[:, 0].tolist(), frame.bids[:, 1].tolist(), strict=True))
            if frame.bids.size
            else {}
        )
        asks = (
            dict(zip(frame.asks[:, 0].tolist(), frame.asks[:, 1].tolist(), strict=True))
            if frame.asks.size
            else {}
        )
        self._history.append((self._now, bids, asks))
        while self._history and self._history[0][0] < self._now - HISTORY_S * 1_000_000:
            self._history.popleft()
        self._times = [h[0] for h in self._history]
        if not self._timer.isActive():
            self._timer.start()
        self.update()

    def _send(self) -> None:
        service = self.flow.service
        if service is None or self._now is None:
            return
        if not self._connected:
            service.ready.connect(self._on_ready)
            self._connected = True
        self.flow.request.emit(
            FlowRequest(now=self._now, x0=self._now, x1=self._now, client="ladder", profile_only=True)
        )

    def _on_ready(self, frame: FlowFrame) -> None:
        if frame.request.client != "ladder" or frame.profile is None:
            return
        t = frame.profile.table().columns
        self._prof_ticks = np.asarray(t["price"], dtype=np.float64)
        self._prof_buy = np.asarray(t["buy_volume"], dtype=np.float64)
        self._prof_sell = np.asarray(t["sell_volume"], dtype=np.float64)
        self.update()

    def volume_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(sold, bought) volume of each ladder row: prices from the row's price up to the next row."""
        levels = self.ladder.model.levels()
        n = len(levels)
        sold, bought = np.zeros(n), np.zeros(n)
        if not len(self._prof_ticks) or n == 0:
            return sold, bought
        step = self.ladder.model.grouping * (self._tick if self._tick > 0 else 1.0)
        prices = np.array([p for p, _b, _a in levels])
        lo = np.searchsorted(self._prof_ticks, prices - step * 1e-6, side="left")
        hi = np.searchsorted(self._prof_ticks, prices + step * (1 - 1e-6), side="left")
        cs = np.r_[0.0, np.cumsum(self._prof_sell)]
        cb = np.r_[0.0, np.cumsum(self._prof_buy)]
        return cs[hi] - cs[lo], cb[hi] - cb[lo]

    def delta_rows(self) -> np.ndarray:
        """Change of resting size per ladder row over the chosen window (0 without history)."""
        levels = self.ladder.model.levels()
        out = np.zeros(len(levels))
        if self._now is None or not self._history:
            return out
        window = int(self.window_box.currentData()) * 1_000_000
        k = bisect.bisect_right(self._times, self._now - window) - 1
        if k < 0:
            return out
        _, then_b, then_a = self._history[k]
        g = self.ladder.model.grouping
        tick = self._tick if self._tick > 0 else 1.0
        step = g * tick
        for r, (price, bid, ask) in enumerate(levels):
            before = 0.0
            for book in (then_b, then_a):
                for p, size in book.items():
                    if price - step * 1e-6 <= p < price + step * (1 - 1e-6):
                        before += size
            out[r] = (bid + ask) - before
        return out

    def set_crosshair(self, price: float | None) -> None:
        self.crosshair = price
        self.update()

    def crosshair_row(self) -> int | None:
        if self.crosshair is None:
            return None
        g = self.ladder.model.grouping
        step = g * (self._tick if self._tick > 0 else 1.0)
        for r, (price, _b, _a) in enumerate(self.ladder.model.levels()):
            if price - step * 1e-6 <= self.crosshair < price + step * (1 - 1e-6):
                return r
        return None

    # ---- drawing ---------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), theme.qcolor(theme.BASE))
        table = self.ladder.table
        top = self.mapFromGlobal(table.viewport().mapToGlobal(QPoint(0, 0))).y()
        header = table.horizontalHeader()
        p.setPen(theme.qcolor(theme.DIM))
        p.setFont(theme.mono_font(8))
        h = header.height() if header.isVisible() else 0
        p.drawText(QRect(0, top - h, VOL_W, h), Qt.AlignmentFlag.AlignCenter, "Volume")
        p.drawText(
            QRect(VOL_W, top - h, DELTA_W, h), Qt.AlignmentFlag.AlignCenter, self.window_box.currentText()
        )
        sold, bought = self.volume_rows()
        delta = self.delta_rows()
        total = sold + bought
        peak = float(total.max()) if total.size and total.max() > 0 else 1.0
        dpeak = float(np.abs(delta).max()) if delta.size and np.abs(delta).max() > 0 else 1.0
        for r in range(len(total)):
            y = top + table.rowViewportPosition(r)
            rh = table.rowHeight(r)
            w_s = int((VOL_W - 4) * sold[r] / peak)
            w_b = int((VOL_W - 4) * bought[r] / peak)
            p.fillRect(2, y + 2, w_s, rh - 3, theme.qcolor(theme.ASK, 110))
            p.fillRect(2 + w_s, y + 2, w_b, rh - 3, theme.qcolor(theme.BID, 110))
            if total[r] > 0:
                p.setPen(theme.qcolor(theme.TEXT))
                p.drawText(
                    QRect(2, y, VOL_W - 6, rh),
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                    compact(total[r]),
                )
            d = delta[r]
            if abs(d) > 1e-12:
                colour = theme.BID if d > 0 else theme.ASK
                alpha = int(60 + 170 * min(1.0, abs(d) / dpeak))
                p.fillRect(VOL_W + 1, y + 1, DELTA_W - 2, rh - 2, theme.qcolor(colour, alpha // 3))
                p.setPen(theme.qcolor(colour))
                text = ("+" if d > 0 else "−") + compact(abs(d))
                p.drawText(
                    QRect(VOL_W, y, DELTA_W - 4, rh),
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                    text,
                )
        cross = self.crosshair_row()
        if cross is not None:
            y = top + table.rowViewportPosition(cross)
            p.setPen(theme.qcolor(theme.LAST, 200))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRect(0, y, self.width() - 1, table.rowHeight(cross) - 1))
        p.end()
