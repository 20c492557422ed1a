"""Clients panel: the in-app server's address and one row per connected client.

Rows: connection, subscriptions, messages and bytes sent, lag behind the app's replay time,
bytes waiting in its socket buffer, and state. Refreshed on a timer (twice a second) from the
server's plain records; nothing here touches sockets or replay data.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from replayterm.qt.serve_host import ServeHost

COLUMNS = ("#", "Client", "Subscriptions", "Messages", "Sent", "Lag", "Buffered", "State")


def _bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def _lag(us: int | None) -> str:
    if us is None:
        return "—"
    if us < 1000:
        return f"{us} µs"
    if us < 1_000_000:
        return f"{us / 1000:.0f} ms"
    return f"{us / 1e6:.1f} s"


class ClientsPanel(QWidget):
    serve_toggled = Signal(bool)

    def __init__(self, host: ServeHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.status = QLabel("Not serving. File ▸ Serve starts a tardis-machine compatible server.")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.port = QSpinBox()
        self.port.setRange(0, 65534)
        self.port.setValue(8000)
        self.port.setToolTip("HTTP port; the WebSocket listens on the next port")
        self.redis = QLineEdit()
        self.redis.setPlaceholderText("Redis (optional): redis://:PASSWORD@HOST:6379/0")
        self.redis.setToolTip(
            "Also publish every message (the WebSocket's JSON) to Redis, one channel per "
            "exchange:symbol:type, following the app's play, pause, speed and seek"
        )
        self.redis.textChanged.connect(lambda text: setattr(host, "redis_url", text))
        self.button = QPushButton("Serve")
        self.button.clicked.connect(self._toggle)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(QLabel("Port"))
        top.addWidget(self.port)
        top.addWidget(self.redis, 1)
        top.addWidget(self.button)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.table)
        host.state_changed.connect(self._on_state)
        host.clients_changed.connect(self.refresh)
        self.timer = QTimer(self)
        self.timer.setInterval(500)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    def _toggle(self) -> None:
        if self.host.running:
            self.host.stop()
        else:
            self.host.start(self.port.value())

    def _on_state(self, text: str) -> None:
        self.status.setText(text or "Not serving. File ▸ Serve starts a tardis-machine compatible server.")
        self.button.setText("Stop" if self.host.running else "Serve")
        self.port.setEnabled(not self.host.running)
        self.redis.setEnabled(not self.host.running)

    def refresh(self) -> None:
        rows = self.host.clients()
        self.table.setRowCount(len(rows))
        for r, c in enumerate(rows):
            values = (
                str(c.id),
                f"{c.kind.upper()} {c.peer}",
                "; ".join(c.subscriptions),
                f"{c.messages:,}",
                _bytes(c.bytes),
                _lag(c.lag_us),
                _bytes(c.buffered),
                c.state,
            )
            for col, text in enumerate(values):
                item = self.table.item(r, col)
                if item is None:
                    item = QTableWidgetItem()
                    if col in (0, 3, 4, 5, 6):
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    self.table.setItem(r, col, item)
                if item.text() != text:
                    item.setText(text)
