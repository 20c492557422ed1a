"""The Manual Trading panel: clicks on the ladder and buttons become orders of the ``manual``
strategy, stamped with the replay time they were made at.

Left-click a bid cell: a limit buy at that price; an ask cell: a limit sell. Click a cell holding
an own order: cancel it. Drag an own order to another price: move it. Buy/Sell Market send market
orders; take-profit and stop (price distances, 0 = none) bracket each entry. Every click is
appended to the strategy's ``clicks`` parameter, and the strategy re-runs from the start with
them (``set_strategy_params``), so what the account shows is always what those clicks at those
replay times give — the same list replayed headless gives the same fills (Export Clicks…).
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from replayterm.core.data.timefmt import format_time
from replayterm.core.frames import Frame
from replayterm.qt.models.ladder_model import ASK_COL, BID_COL
from replayterm.qt.views.ladder_view import LadderView

NAME = "manual"


class ManualTradingPanel(QWidget):
    add_strategy = Signal(str, dict)
    set_params = Signal(int, dict)

    def __init__(self, ladder: LadderView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ladder = ladder
        self.clicks: list[dict[str, Any]] = []
        self.handle_id: int | None = None
        self.now: int | None = None
        self._press: tuple[int, int] | None = None
        self.size_box = QDoubleSpinBox(self)
        self.size_box.setDecimals(4)
        self.size_box.setRange(0.0001, 1e9)
        self.size_box.setValue(0.01)
        self.tp = QDoubleSpinBox(self)
        self.sl = QDoubleSpinBox(self)
        for box in (self.tp, self.sl):
            box.setDecimals(4)
            box.setRange(0.0, 1e9)
            box.setSpecialValueText("none")
        self.on_ladder = QCheckBox("Click the ladder to trade", self)
        self.on_ladder.setChecked(True)
        buy = QPushButton("Buy Market", self)
        sell = QPushButton("Sell Market", self)
        buy.clicked.connect(lambda: self._market(1))
        sell.clicked.connect(lambda: self._market(-1))
        undo = QPushButton("Undo Last", self)
        undo.clicked.connect(self.undo)
        export = QPushButton("Export Clicks…", self)
        export.clicked.connect(self._export)
        self.list = QListWidget(self)
        self.status = QLabel("Open data, then click the ladder or a market button", self)
        self.status.setObjectName("dimLabel")
        self.status.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Size", self.size_box)
        form.addRow("Take profit Δ", self.tp)
        form.addRow("Stop Δ", self.sl)
        row = QHBoxLayout()
        row.addWidget(buy)
        row.addWidget(sell)
        row2 = QHBoxLayout()
        row2.addWidget(undo)
        row2.addWidget(export)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.on_ladder)
        lay.addLayout(row)
        lay.addLayout(row2)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.status)
        ladder.table.viewport().installEventFilter(self)

    # ---- inputs --------------------------------------------------------------------------------
    def apply_frame(self, frame: Frame) -> None:
        self.now = int(frame.local_ts)

    def set_strategies(self, infos: list[Any]) -> None:
        found = [i for i in infos if getattr(i, "class_name", "") == "ManualTrading" or i.name == NAME]
        self.handle_id = found[0].handle.id if found else None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self.on_ladder.isChecked() or not isinstance(event, QMouseEvent):
            return False
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        if event.type() == QEvent.Type.MouseButtonPress:
            self._press = self._cell(event.position().toPoint())
            return False
        if event.type() == QEvent.Type.MouseButtonRelease and self._press is not None:
            start, self._press = self._press, None
            end = self._cell(event.position().toPoint())
            if end is not None:
                self.ladder_click(start, end)
        return False

    def _cell(self, pos: QPoint) -> tuple[int, int] | None:
        index = self.ladder.table.indexAt(pos)
        return (index.row(), index.column()) if index.isValid() else None

    # ---- clicks ---------------------------------------------------------------------------------
    def ladder_click(self, start: tuple[int, int], end: tuple[int, int]) -> None:
        """A press on ``start`` released on ``end`` (row, column) of the ladder."""
        model = self.ladder.model
        levels = model.levels()
        row, col = start
        if col not in (BID_COL, ASK_COL) or not 0 <= row < len(levels):
            return
        price = levels[row][0]
        side = "buy" if col == BID_COL else "sell"
        own = self._live_limit(side, price)
        if own is not None and end[0] != row and 0 <= end[0] < len(levels):
            self.record({"action": "move", "ref": own, "price": levels[end[0]][0]})
        elif own is not None and end == start:
            self.record({"action": "cancel", "ref": own})
        elif end == start:
            self.record(
                {
                    "action": "limit",
                    "side": side,
                    "price": price,
                    "size": self.size_box.value(),
                    **self._bracket(),
                }
            )

    def _market(self, side: int) -> None:
        self.record(
            {
                "action": "market",
                "side": "buy" if side > 0 else "sell",
                "size": self.size_box.value(),
                **self._bracket(),
            }
        )

    def _bracket(self) -> dict[str, float]:
        out = {}
        if self.tp.value() > 0:
            out["tp"] = self.tp.value()
        if self.sl.value() > 0:
            out["sl"] = self.sl.value()
        return out

    def _live_limit(self, side: str, price: float) -> int | None:
        """The newest limit click at ``price`` on ``side`` not cancelled since (moves follow it)."""
        where: dict[int, float] = {}
        for k, c in enumerate(self.clicks):
            if c["action"] == "limit" and c["side"] == side:
                where[k] = c["price"]
            elif c["action"] == "cancel":
                where.pop(c["ref"], None)
            elif c["action"] == "move" and c["ref"] in where:
                where[c["ref"]] = c["price"]
        hits = [k for k, p in where.items() if abs(p - price) < 1e-9]
        return hits[-1] if hits else None

    def record(self, click: dict[str, Any]) -> None:
        if self.now is None:
            self.status.setText("Open data first: a click is an order at the current replay time")
            return
        click = {"t": self.now, **click}
        self.clicks.append(click)
        self.list.addItem(_describe(len(self.clicks) - 1, click))
        self._send()

    def undo(self) -> None:
        if self.clicks:
            self.clicks.pop()
            self.list.takeItem(self.list.count() - 1)
            self._send()

    def _send(self) -> None:
        params = {"clicks": json.dumps(self.clicks)}
        if self.handle_id is None:
            self.add_strategy.emit(NAME, params)
        else:
            self.set_params.emit(self.handle_id, params)
        self.status.setText(f"{len(self.clicks)} clicks; the manual account re-runs with them")

    def _export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export clicks", "clicks.json", "JSON (*.json)")
        if path:
            with open(path, "w", encoding="utf-8") as f:
                json.dump(self.clicks, f, indent=1)
            self.status.setText(
                f"Saved {len(self.clicks)} clicks: replay them with "
                f"replayterm backtest … --strategy manual --param clicks=@{path}"
            )


def _describe(k: int, c: dict[str, Any]) -> str:
    when = format_time(c["t"])[11:23]
    if c["action"] in ("limit", "market"):
        price = f" @ {c['price']:g}" if c["action"] == "limit" else ""
        extra = "".join(f" {name} {c[name]:g}" for name in ("tp", "sl") if name in c)
        return f"#{k} {when} {c['action']} {c['side']} {c['size']:g}{price}{extra}"
    if c["action"] == "move":
        return f"#{k} {when} move #{c['ref']} to {c['price']:g}"
    return f"#{k} {when} cancel #{c['ref']}"
