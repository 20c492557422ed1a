"""``OrdersUI``: wires the order inspector to the worker, the fills table and the price chart.

Asks the worker for the selected strategy's orders when the inspector is shown or the strategy
changes, and for one order's life on a click; draws that order on the price chart: its price
from arrival to its end, its fills, and the outcome sentence beside it.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QModelIndex, QObject, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from replayterm.qt import theme
from replayterm.qt.orders.inspector import OrderInspector

Z_ORDER = 40
REFRESH_MS = 1000


class OrdersUI(QObject):
    list_requested = Signal(int)  # strategy id
    inspect_requested = Signal(int, int)  # strategy id, order id
    inspected = Signal(object)  # the life shown (tests, screenshots)

    def __init__(self, price_plot: pg.PlotItem, parent: QWidget) -> None:
        super().__init__(parent)
        self.inspector = OrderInspector(parent)
        self.inspector.order_selected.connect(self._on_order_selected)
        self.strategy_id: int | None = None
        self._plot = price_plot
        self._line = pg.PlotDataItem(pen=pg.mkPen(theme.ACCENT, width=3))
        self._fills = pg.ScatterPlotItem(
            size=12, pen=pg.mkPen(theme.TEXT, width=1.5), brush=QColor(theme.ACCENT)
        )
        self._label = pg.TextItem(color=theme.TEXT, anchor=(0, 1))
        for item in (self._line, self._fills, self._label):
            item.setZValue(Z_ORDER)
            price_plot.addItem(item, ignoreBounds=True)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    def set_strategy(self, sid: int | None) -> None:
        if sid != self.strategy_id:
            self.strategy_id = sid
            self.inspector.set_orders([])
            self.refresh()

    def refresh(self) -> None:
        if self.strategy_id is not None and self.inspector.isVisible():
            self.list_requested.emit(self.strategy_id)

    def on_visibility(self, shown: bool) -> None:
        if shown:
            self.refresh()

    def set_orders(self, sid: int, rows: list[dict[str, Any]]) -> None:
        if sid == self.strategy_id:
            self.inspector.set_orders(rows)

    def inspect(self, sid: int, order_id: int) -> None:
        self.strategy_id = sid
        self.inspect_requested.emit(sid, order_id)

    def on_fill_clicked(self, model: Any, index: QModelIndex) -> None:
        """A row of the fills table: inspect the order it belongs to."""
        found = model.order_at(index.row())
        if found is not None:
            self.inspect(*found)

    def _on_order_selected(self, order_id: int) -> None:
        if self.strategy_id is not None:
            self.inspect_requested.emit(self.strategy_id, order_id)

    def show_life(self, life: dict[str, Any]) -> None:
        self.inspector.show_life(life)
        self.inspector.select_order(int(life["order_id"]))
        self._draw(life)
        self.inspected.emit(life)

    def _draw(self, life: dict[str, Any]) -> None:
        price, arrival = life["price"], life["arrival_ts"]
        if price is None or arrival is None:
            self._line.setData([], [])
            self._fills.setData([], [])
            self._label.setText("")
            return
        end = life["end_ts"] if life["end_ts"] is not None else life.get("now_us", arrival)
        colour = life.get("colour") or theme.ACCENT
        self._line.setPen(pg.mkPen(colour, width=3))
        self._line.setData([arrival / 1e6, end / 1e6], [price, price])
        fills = life.get("fill_list") or []
        self._fills.setData([f["ts"] / 1e6 for f in fills], [f["price"] for f in fills], brush=QColor(colour))
        self._label.setText(f"#{life['order_id']} {life['reason']}")
        self._label.setPos(arrival / 1e6, price)
