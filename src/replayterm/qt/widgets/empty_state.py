"""A stack that shows a hint until the first frame arrives, then the real view."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedWidget, QWidget

NO_DATA = "No data\n\nFile ▸ Open… (Ctrl+O), or drop files on the window"


class EmptyState(QStackedWidget):
    def __init__(self, content: QWidget, hint: str = NO_DATA, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hint = QLabel(hint, self)
        self.hint.setObjectName("emptyHint")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.addWidget(self.hint)
        self.addWidget(content)
        self.content = content

    @property
    def empty(self) -> bool:
        return self.currentIndex() == 0

    def set_empty(self, empty: bool) -> None:
        self.setCurrentIndex(0 if empty else 1)
