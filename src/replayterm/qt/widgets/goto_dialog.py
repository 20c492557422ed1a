"""Go to time: ISO-8601 UTC, a time of day, or integer µs; errors are shown in the dialog.

A time of day is resolved against the data's dates (see ``timefmt.parse_time_explained``); a
preview line under the entry shows the full UTC time it means before the user presses OK.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from replayterm.qt.timefmt import format_iso, format_utc, parse_time_explained

DIALOG_WIDTH = 520


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
        self.preview = self._label("dimLabel")
        self.hint = self._label("dimLabel")
        self.hint.setText(
            "ISO-8601 UTC (2024-07-18T12:34:56.789Z), a time of day (12:34:56.5: on the date of the "
            "data where it falls, else the current date) or integer microseconds since the epoch."
        )
        self.error = self._label("errorLabel")
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = self._layout = QVBoxLayout(self)
        layout.setSpacing(8)
        if self._span:
            span_label = QLabel(f"Data: {format_utc(self._span[0])} → {format_utc(self._span[1])} UTC", self)
            span_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(span_label)
        layout.addWidget(self.edit)
        layout.addWidget(self.preview)
        layout.addWidget(self.hint)
        layout.addWidget(self.error)
        layout.addStretch(1)
        layout.addWidget(buttons)
        # A fixed width, and a height set from the wrapped labels' needs whenever a text
        # changes: a top-level dialog does not do height-for-width by itself, so shown error
        # text would otherwise be squeezed over the hint.
        self.setFixedWidth(DIALOG_WIDTH)
        self.edit.textChanged.connect(self._update_preview)
        self._update_preview()

    def _label(self, object_name: str) -> QLabel:
        label = QLabel("", self)
        label.setObjectName(object_name)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _parse(self) -> tuple[int, str]:
        return parse_time_explained(self.edit.text(), self._current, self._span)

    def _update_preview(self) -> None:
        self.error.hide()
        try:
            us, note = self._parse()
        except ValueError:
            text = " "  # keep the line: the dialog does not jump while typing
        else:
            text = f"→ {format_utc(us)} UTC" + (f"\n{note}" if note else "")
        self.preview.setText(text)
        self._fit_height()

    def _fit_height(self) -> None:
        layout = self._layout
        layout.activate()
        self.setFixedHeight(max(layout.totalHeightForWidth(DIALOG_WIDTH), layout.totalMinimumSize().height()))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit_height()

    def accept(self) -> None:
        try:
            us, _note = self._parse()
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
        self._fit_height()
        self.edit.setFocus()
        self.edit.selectAll()
