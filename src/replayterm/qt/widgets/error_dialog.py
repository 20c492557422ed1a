"""Non-blocking error dialog: one instance, newest error shown, earlier ones counted.

Errors never stop the app: the dialog is modeless (``show()``, never ``exec()``), so the window
stays usable and a burst of errors does not stack dozens of dialogs.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


class ErrorDialog(QMessageBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setIcon(QMessageBox.Icon.Critical)
        self.setStandardButtons(QMessageBox.StandardButton.Close)
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.count = 0

    def report(self, title: str, text: str, details: str = "") -> None:
        self.count = self.count + 1 if self.isVisible() else 1
        self.setWindowTitle(title)
        more = f"\n\n({self.count - 1} earlier error(s) in the log panel)" if self.count > 1 else ""
        self.setText(f"{title}\n\n{text}{more}")
        self.setDetailedText(details)
        self.show()
        self.raise_()
