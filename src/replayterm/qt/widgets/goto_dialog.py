"""Go to time: ISO-8601 UTC, a time of day, or integer µs; errors are shown in the dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from replayterm.qt.timefmt import format_iso, format_utc, parse_time


class GoToTimeDialog(QDialog):
    def __init__(
        self,
        parent: QWidget | None,
        current_us: int | None = None,
        span: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Go to Time")
        self.setModal(True)
        self.value_us: int | None = None
        self._current = current_us
        self._span = span if span and span[1] > span[0] else None

        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("2024-07-18T12:34:56.789Z")
        if current_us is not None:
            self.edit.setText(format_iso(current_us))
            self.edit.selectAll()
        self.edit.setMinimumWidth(360)
        hint = QLabel(
            "ISO-8601 UTC (2024-07-18T12:34:56.789Z), a time of day on the current date "
            "(12:34:56.5) or integer microseconds since the epoch.",
            self,
        )
        hint.setWordWrap(True)
        hint.setObjectName("dimLabel")
        self.error = QLabel("", self)
        self.error.setObjectName("errorLabel")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if self._span:
            span_label = QLabel(f"Data: {format_utc(self._span[0])} → {format_utc(self._span[1])} UTC", self)
            span_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(span_label)
        layout.addWidget(self.edit)
        layout.addWidget(hint)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.edit.textEdited.connect(lambda _t: self.error.hide())

    def accept(self) -> None:
        try:
            us = parse_time(self.edit.text(), self._current)
        except ValueError as exc:
            self._fail(str(exc))
            return
        if self._span and not self._span[0] <= us <= self._span[1]:
            self._fail(
                f"{format_utc(us)} UTC is outside the data "
                f"({format_utc(self._span[0])} → {format_utc(self._span[1])})."
            )
            return
        self.value_us = us
        super().accept()

    def _fail(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
        self.edit.setFocus()
        self.edit.selectAll()
