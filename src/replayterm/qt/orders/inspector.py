"""``OrderInspector``: one strategy's orders in a table and the selected order's life beside it:
the outcome sentence, the facts (decision, latency, arrival, queue at arrival and at the end),
the queue ahead over time as a step curve with the trades printed at its price and its fills,
and the story as text (the same as ``replayterm explain``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from replayterm.core.data.numfmt import plain
from replayterm.core.execution.story import story
from replayterm.qt import theme
from replayterm.qt.orders.orders_model import OUTCOME_COLOURS, OrdersModel


class OrderInspector(QWidget):
    order_selected = Signal(int)  # order id (of the strategy shown)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = OrdersModel()
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setFont(theme.mono_font(9))
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        # Interactive, not ResizeToContents: the latter measures every row on each refresh.
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)

        self.title = QLabel("Click an order (a row here or in Fills) to see its life", self)
        self.title.setObjectName("dimLabel")
        self.sentence = QLabel("", self)
        self.sentence.setWordWrap(True)
        font = self.sentence.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.sentence.setFont(font)
        self.plot = pg.PlotWidget(self)
        self.plot.setBackground(theme.BASE)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setLabel("left", "queue ahead")
        self.plot.setLabel("bottom", "seconds since arrival")
        self.plot.setMinimumHeight(40)  # it shares the bottom tab group: never push the heatmap
        self.curve = pg.PlotDataItem(pen=pg.mkPen(theme.ACCENT, width=2))
        self.trades = pg.BarGraphItem(x=[], height=[], width=0.0, brush=QColor(theme.LAST))
        self.fills = pg.ScatterPlotItem(size=11, pen=pg.mkPen(theme.TEXT), brush=QColor(theme.OK))
        for item in (self.curve, self.trades, self.fills):
            self.plot.addItem(item)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setFont(theme.mono_font(9))

        detail = QWidget(self)
        dl = QVBoxLayout(detail)
        dl.setContentsMargins(6, 4, 6, 4)
        dl.addWidget(self.title)
        dl.addWidget(self.sentence)
        dl.addWidget(self.plot, 2)
        dl.addWidget(self.text, 1)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.table)
        split.addWidget(detail)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self._quiet = False
        self.life: dict[str, Any] | None = None

    def set_orders(self, rows: list[dict[str, Any]]) -> None:
        """The strategy's orders (oldest first), shown newest first; keeps the selected order
        selected."""
        current = self.selected_order()
        self._quiet = True
        try:
            self.model.set_rows(rows)
            if current is not None:
                self._select_row(self.model.row_of(current))
        finally:
            self._quiet = False

    def selected_order(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.order_id(rows[0].row()) if rows else None

    def select_order(self, order_id: int) -> None:
        self._quiet = True
        try:
            self._select_row(self.model.row_of(order_id))
        finally:
            self._quiet = False

    def _select_row(self, row: int | None) -> None:
        if row is not None:
            self.table.selectRow(row)

    def _on_selection(self) -> None:
        oid = self.selected_order()
        if oid is not None and not self._quiet:
            self.order_selected.emit(oid)

    def show_life(self, life: dict[str, Any]) -> None:
        self.life = life
        side = life["side"]
        price = "market" if life["price"] is None else plain(float(life["price"]))
        self.title.setText(f"order {life['order_id']} · {life['strategy']} · {life['instrument']} · "
                           f"{side} {plain(float(life['amount']))} @ {price} {life['tif']}")  # fmt: skip
        colour = OUTCOME_COLOURS.get(life["outcome"], theme.TEXT)
        self.sentence.setStyleSheet(f"color: {colour}")
        self.sentence.setText(life["reason"])
        self.text.setPlainText(story(life))
        arrival = life["arrival_ts"]
        curve = life.get("queue_curve") or []
        if arrival is None or not curve:
            self.curve.setData([], [])
            self.trades.setOpts(x=[], height=[], width=0.0)
            self.fills.setData([], [])
            return
        end = life["end_ts"] if life["end_ts"] is not None else life.get("now_us", curve[-1][0])
        xs = [(t - arrival) / 1e6 for t, _ in curve] + [(end - arrival) / 1e6]
        ys = [a for _, a in curve]
        self.curve.setData(np.array(xs), np.array(ys), stepMode="center")
        span = max(xs[-1], 1e-3)
        trades = life.get("trades") or []
        self.trades.setOpts(
            x=[(t - arrival) / 1e6 for t, _ in trades], height=[a for _, a in trades], width=span / 200
        )
        fills = life.get("fill_list") or []
        self.fills.setData([(f["ts"] - arrival) / 1e6 for f in fills], [0.0] * len(fills))
        self.plot.enableAutoRange()
