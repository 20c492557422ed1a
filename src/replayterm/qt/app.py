"""Desktop entry point: QApplication, excepthooks, main window."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from PySide6.QtWidgets import QApplication, QLabel, QMainWindow


def main(argv: Sequence[str] = ()) -> int:
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    window = QMainWindow()
    window.setWindowTitle("ReplayTerm")
    window.setCentralWidget(QLabel("ReplayTerm"))
    window.resize(1400, 900)
    window.show()
    return int(app.exec())
