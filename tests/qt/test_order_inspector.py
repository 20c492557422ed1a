"""The order inspector: an order's life in the panel and on the price chart."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from replayterm.core.execution.account import Account
from replayterm.core.execution.exchange import SimExchange
from replayterm.core.execution.latency import ConstantLatency
from replayterm.core.execution.orders import BUY, Order
from replayterm.qt.main_window import MainWindow
from replayterm.qt.orders import OrderInspector
from replayterm.qt.orders.orders_model import OrdersModel


class _Book:
    position = 0

    def best_bid(self) -> tuple[float, float]:
        return (100.0, 2.4)

    def best_ask(self) -> tuple[float, float]:
        return (100.1, 1.0)

    def levels(self, side: int, n: int) -> np.ndarray:
        return np.array([self.best_bid() if side > 0 else self.best_ask()])

    def size_at(self, side: int, price: float) -> float:
        return 2.4 if side > 0 and price == 100.0 else 0.0


def _life() -> dict[str, object]:
    ex = SimExchange(Account(), latency=ConstantLatency(1000, 0), book=_Book(), tick_size=0.1)
    oid = ex.submit(0, Order.limit(BUY, 1, 100.0))
    ex.advance(1000)
    ex.on_trade(1_500_000, -1, 100.0, 1.0)
    ex.on_trade(3_101_000, -1, 100.0, 2.4)
    (facts,) = ex.order_facts()
    assert facts.order_id == oid
    return {**facts.life(), "strategy": "s", "instrument": "x:Y", "colour": "#ff0000", "now_us": 4_000_000}


def test_the_inspector_shows_the_life_of_an_order(qtbot: QtBot) -> None:
    inspector = OrderInspector()
    qtbot.addWidget(inspector)
    life = _life()
    inspector.set_orders([{k: life[k] for k in ("order_id", "side", "price", "amount", "outcome", "reason")}])
    assert inspector.model.rowCount() == 1
    picked: list[int] = []
    inspector.order_selected.connect(picked.append)
    inspector.table.selectRow(0)
    assert picked == [life["order_id"]]
    inspector.show_life(life)
    assert inspector.sentence.text() == "filled: the 2.4 ahead traded out in 3.1 s"
    _xs, ys = inspector.curve.getData()
    assert list(ys) == [2.4, 1.4, 0.0]  # the step curve of the queue ahead
    assert "why       filled: the 2.4 ahead" in inspector.text.toPlainText()


def test_the_window_draws_the_inspected_order_on_the_price_chart(qtbot: QtBot, settings: QSettings) -> None:
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    assert "orders" in w.docks
    life = _life()
    shown: list[object] = []
    w.orders.inspected.connect(shown.append)
    w.orders.show_life(life)
    assert shown == [life]
    xs, ys = w.orders._line.getData()
    assert list(ys) == [100.0, 100.0]
    assert xs[0] == 0.001
    assert "filled: the 2.4 ahead" in w.orders._label.toPlainText()


def test_a_long_order_list_formats_only_what_is_visible_and_keeps_the_selection(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A market maker sends tens of thousands of orders; every refresh used to build a widget item
    per cell and size the columns over all rows, which froze the GUI for seconds."""
    inspector = OrderInspector()
    qtbot.addWidget(inspector)
    inspector.resize(800, 300)
    inspector.show()
    rows = [
        {"order_id": i, "side": "buy" if i % 2 else "sell", "price": 100.0 + i % 7, "amount": 1.0,
         "outcome": "filled", "reason": "filled: traded out"}
        for i in range(1, 50_001)
    ]  # fmt: skip
    inspector.set_orders(rows)
    inspector.select_order(49_990)
    formatted: list[int] = []
    original = OrdersModel._text

    def counting(row: dict, col: int) -> str:
        formatted.append(col)
        return original(row, col)

    monkeypatch.setattr(OrdersModel, "_text", staticmethod(counting))
    inspector.set_orders([*rows, {**rows[0], "order_id": 50_001}])
    inspector.grab()  # paints the visible rows
    assert inspector.model.rowCount() == 50_001
    assert inspector.selected_order() == 49_990  # still selected after the refresh
    assert 0 < len(formatted) < 2_000  # the visible cells, not 300,006
