"""File ▸ Open Database…: a PostgreSQL/TimescaleDB source as the ``postgresql://…`` URLs the
readers take (one per table: the book and, optionally, the trades).

The password is used for this open only and is never saved (the server, tables, symbol and range
are); left empty, libpq takes it from PGPASSWORD or ~/.pgpass. Nothing connects here: the open
runs on the replay worker like a file's, and a query already in the cache opens without the
database at all.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from replayterm.core.data.postgres import DatabaseQuery, is_database_url

_FIELDS = ("server", "book_table", "trades_table", "symbol", "from", "to")


class OpenDatabaseDialog(QDialog):
    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open Database")
        self.setModal(True)
        self.setMinimumWidth(560)
        self.settings = settings
        self.urls: list[str] = []
        self.server = QLineEdit(self)
        self.server.setPlaceholderText("postgresql://USER@HOST:5432/DATABASE")
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("empty: PGPASSWORD or ~/.pgpass (never saved)")
        self.book_table = QLineEdit(self)
        self.book_table.setPlaceholderText("incremental_book_L2 rows, e.g. binance_book")
        self.trades_table = QLineEdit(self)
        self.trades_table.setPlaceholderText("optional: trades rows")
        self.symbol = QLineEdit(self)
        self.symbol.setPlaceholderText("optional: one symbol, e.g. BTCUSDT (empty: every symbol)")
        self.from_edit = QLineEdit(self)
        self.from_edit.setPlaceholderText("optional: 2024-07-19T00:00:00Z")
        self.to_edit = QLineEdit(self)
        self.to_edit.setPlaceholderText("optional: 2024-07-19T01:00:00Z (exclusive)")
        form = QFormLayout()
        form.addRow("Server", self.server)
        form.addRow("Password", self.password)
        form.addRow("Book table", self.book_table)
        form.addRow("Trades table", self.trades_table)
        form.addRow("Symbol", self.symbol)
        form.addRow("From (UTC)", self.from_edit)
        form.addRow("To (UTC)", self.to_edit)
        hint = QLabel(
            "Tables with Tardis's columns (exchange, symbol, timestamp, local_timestamp, side, price, "
            "amount, …) as 'replayterm export --to' writes them; a TimescaleDB hypertable reads like a "
            "table. Other column names: add col.local_timestamp=recv_time&… to the server URL. "
            "The rows are cached: a second open does not read the database.",
            self,
        )
        hint.setObjectName("dimLabel")
        hint.setWordWrap(True)
        self.error = QLabel(self)
        self.error.setObjectName("errorLabel")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        for name, edit in zip(_FIELDS, self._edits(), strict=True):
            edit.setText(str(settings.value(f"database/{name}", "") or ""))

    def _edits(self) -> list[QLineEdit]:
        return [self.server, self.book_table, self.trades_table, self.symbol, self.from_edit, self.to_edit]

    def build_urls(self) -> list[str]:
        """The source URLs for the fields; raises ValueError saying what to fix."""
        server = self.server.text().strip()
        if not is_database_url(server):
            raise ValueError("Server: give a URL such as postgresql://USER@HOST:5432/DATABASE")
        parts = urlsplit(server)
        netloc = parts.netloc
        password = self.password.text()
        if password:
            user_host = netloc.rsplit("@", 1)
            if len(user_host) != 2 or not user_host[0]:
                raise ValueError("Server: a password needs a user name (postgresql://USER@HOST/DB)")
            user = user_host[0].split(":", 1)[0]
            netloc = f"{user}:{quote(password, safe='')}@{user_host[1]}"
        tables = [t for t in (self.book_table.text().strip(), self.trades_table.text().strip()) if t]
        if not tables:
            raise ValueError("Book table: name the table of book rows (or at least one table)")
        urls = []
        for table in tables:
            query = [("table", table)]
            for name, edit in (("symbol", self.symbol), ("from", self.from_edit), ("to", self.to_edit)):
                if edit.text().strip():
                    query.append((name, edit.text().strip()))
            extra = parts.query
            text = urlencode(query) + (f"&{extra}" if extra else "")
            url = urlunsplit((parts.scheme, netloc, parts.path, text, ""))
            DatabaseQuery.parse(url)  # the same checks as the reader's, before anything connects
            urls.append(url)
        return urls

    def accept(self) -> None:
        try:
            self.urls = self.build_urls()
        except ValueError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        for name, edit in zip(_FIELDS, self._edits(), strict=True):
            text = edit.text().strip()
            self.settings.setValue(f"database/{name}", _without_password(text) if name == "server" else text)
        super().accept()


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user_part, _, host = parts.netloc.rpartition("@")
    return urlunsplit((parts.scheme, f"{user_part.split(':', 1)[0]}@{host}", parts.path, parts.query, ""))
