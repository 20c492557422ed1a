"""Status-bar progress for long opens (conversion, indexing, checkpoints) with a Cancel button."""

from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget


class OpenProgress(QWidget):
    cancel_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = QLabel("", self)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 1000)
        self.bar.setFixedWidth(220)
        self.bar.setTextVisible(True)
        self.cancel = QToolButton(self)
        self.cancel.setText("Cancel")
        self.cancel.setToolTip("Stop opening (Esc)")
        self.cancel.clicked.connect(self._on_cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.message)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel)
        self.hide()

    def set_progress(self, fraction: float, message: str) -> None:
        if not math.isfinite(fraction) or fraction < 0:
            self.bar.setRange(0, 0)  # unknown length: busy indicator
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(round(min(fraction, 1.0) * 1000))
            self.bar.setFormat(f"{min(fraction, 1.0) * 100:.0f}%")
        self.message.setText(message)
        self.cancel.setEnabled(True)
        self.show()

    def _on_cancel(self) -> None:
        self.cancel.setEnabled(False)
        self.message.setText("Cancelling…")
        self.cancel_clicked.emit()

    def finish(self) -> None:
        self.hide()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
