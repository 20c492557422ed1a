"""Desktop entry point: QApplication, theme, excepthooks, main window."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from replayterm.qt import theme
from replayterm.qt.controller import ReplayController
from replayterm.qt.main_window import MainWindow
from replayterm.qt.settings import APPLICATION, ORGANIZATION

SAMPLE_DIR = Path(__file__).resolve().parents[3] / "data"


def bundled_sample() -> list[str]:
    """The synthetic sample shipped in ``data/`` (opened when no file is given)."""
    return sorted(str(p) for p in SAMPLE_DIR.glob("*.csv.gz")) if SAMPLE_DIR.is_dir() else []


def create_application(argv: Sequence[str] = ()) -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0], *argv])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("ReplayTerm")
    icon = theme.RESOURCES / "icon.svg"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    theme.apply_dark_theme(app)
    return app


def main(argv: Sequence[str] = ()) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_application(argv)
    window = MainWindow()
    restore_hooks = window.exceptions.install()
    controller = ReplayController(window)
    files = [a for a in app.arguments()[1:] if not a.startswith("-")] or bundled_sample()
    window.show()
    if files:
        QTimer.singleShot(0, lambda: window.request_open(files))
    try:
        return int(app.exec())
    finally:
        controller.shutdown()
        restore_hooks()
        # Delete the scene graph while Qt is still alive: pyqtgraph items destroyed during
        # interpreter shutdown crash it.
        window.deleteLater()
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
