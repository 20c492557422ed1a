"""Candles with volume under them on the main price chart, as a choice beside the band and dots.

With View ▸ Candles on Price Chart the chart's bid/ask band, mid line and trade dots give way to
candles of the visible window (bar size picked from the window: about 60–150 bars across), and
the sub-chart under the price shows their volume (coloured by delta) instead of the spread. The
bars come from ``core.flow`` through the order-flow thread, like the Order Flow view's.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction, QKeySequence

from replayterm.core.flow.view import FlowFrame, FlowRequest
from replayterm.core.frames import Frame
from replayterm.qt.flow.items import BarsItem, CandlesItem
from replayterm.qt.flow.view import OrderFlowView
from replayterm.qt.views.charts import ChartsView

BAR_SIZES_S = (1, 5, 15, 30, 60, 300, 900, 3600)
TARGET_BARS = 90
REQUEST_MS = 100


def bar_size_for(window_s: float) -> int:
    """The bar size (seconds) that puts about ``TARGET_BARS`` bars across the window."""
    for size in BAR_SIZES_S:
        if window_s / size <= TARGET_BARS * 1.6:
            return size
    return BAR_SIZES_S[-1]


class ChartCandles(QObject):
    def __init__(self, charts: ChartsView, flow: OrderFlowView) -> None:
        super().__init__(charts)
        self.charts, self.flow = charts, flow
        self.candles = CandlesItem()
        self.volume = BarsItem()
        self.candles.setVisible(False)
        self.volume.setVisible(False)
        charts.price_plot.addItem(self.candles)
        charts.spread_plot.addItem(self.volume)
        self.act = QAction("&Candles on Price Chart", self, checkable=True, checked=False)
        self.act.setShortcut(QKeySequence("Alt+C"))
        self.act.setToolTip("Candles with volume under them instead of the bid/ask band and trade dots")
        self.act.toggled.connect(self._on_toggled)
        self._now: int | None = None
        self._connected = False
        self._timer = QTimer(self, singleShot=True, interval=REQUEST_MS)
        self._timer.timeout.connect(self._send)
        charts.price_plot.getViewBox().sigXRangeChanged.connect(lambda *_: self._schedule())

    def _on_toggled(self, on: bool) -> None:
        c = self.charts
        for item in (c.band, c.bid_curve, c.ask_curve, c.mid_curve, c.spread_curve):
            item.setVisible(not on)
        c.dots.setVisible(not on and c.act_trades.isChecked())
        self.candles.setVisible(on)
        self.volume.setVisible(on)
        c.spread_plot.getAxis("right").setLabel("Volume" if on else "Spread")
        if on:
            self._schedule(now=True)

    def apply_frame(self, frame: Frame) -> None:
        self._now = int(frame.local_ts)
        if self.act.isChecked():
            self._schedule(now=frame.reset)

    def _schedule(self, now: bool = False) -> None:
        if not self.act.isChecked():
            return
        if now:
            self._timer.stop()
            self._send()
        elif not self._timer.isActive():
            self._timer.start()

    def _send(self) -> None:
        service = self.flow.service
        if service is None or self._now is None:
            return
        if not self._connected:
            service.ready.connect(self._draw)
            self._connected = True
        (x0, x1), _ = self.charts.price_plot.getViewBox().viewRange()
        size = bar_size_for(x1 - x0)
        self.flow.request.emit(
            FlowRequest(
                now=self._now, x0=int(x0 * 1e6), x1=int(x1 * 1e6), interval=f"{size}s", client="chart"
            )
        )

    def _draw(self, frame: FlowFrame) -> None:
        if frame.request.client != "chart" or not self.act.isChecked():
            return
        b = frame.bars.columns
        if frame.empty:
            self.candles.set_data(*[np.empty(0)] * 6)
            self.volume.set_data(*[np.empty(0)] * 4)
            return
        x = b["start_us"] / 1e6
        w = np.full(len(x), float(int(frame.request.interval[:-1])))
        self.candles.set_data(x, w, b["open"], b["high"], b["low"], b["close"])
        self.volume.set_data(x, w, b["volume"], b["delta"])
        top = float(np.max(b["volume"])) or 1.0
        self.charts.spread_plot.getViewBox().setYRange(0.0, top * 1.1, padding=0.0)
