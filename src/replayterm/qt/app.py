"""Desktop entry point: QApplication, theme, excepthooks, main window."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, QTimer, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from replayterm import bundled
from replayterm.qt import theme
from replayterm.qt.controller import ReplayController
from replayterm.qt.gc_policy import GuiCollector
from replayterm.qt.main_window import MainWindow
from replayterm.qt.settings import APPLICATION, ORGANIZATION

# Close the window this many seconds after the data opened (smoke tests of installed and frozen
# builds; counted from the start when there is nothing to open).
QUIT_AFTER_ENV = "REPLAYTERM_QUIT_AFTER"


class _QuitAfterOpen(QObject):
    """Closes the window a while after the open finished, or at once when it failed."""

    def __init__(self, window: MainWindow, delay_ms: int) -> None:
        super().__init__(window)
        self.window, self.delay_ms = window, delay_ms

    @Slot(object)
    def opened(self, _info: object) -> None:
        QTimer.singleShot(self.delay_ms, self.window.close)

    @Slot(str)
    def failed(self, _text: str) -> None:
        self.window.close()

    @Slot()
    def cancelled(self) -> None:
        self.window.close()


def bundled_sample() -> list[str]:
    """The synthetic sample installed with the package (opened when no file is given)."""
    return [str(p) for p in bundled.sample_files()]


OPENGL_ENV = "REPLAYTERM_OPENGL"  # "1": charts and heatmap draw through a QOpenGLWidget viewport


def create_application(argv: Sequence[str] = ()) -> QApplication:
    if os.environ.get(OPENGL_ENV, "").strip() == "1":
        import pyqtgraph as pg

        pg.setConfigOptions(useOpenGL=True)  # before any plot is made
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0], *argv])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("ReplayTerm")
    icon = bundled.resource_path("icon.svg")
    if icon is not None:
        app.setWindowIcon(QIcon(str(icon)))
    theme.apply_dark_theme(app)
    return app


def main(argv: Sequence[str] = ()) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_application(argv)
    collector = GuiCollector(app)  # cyclic GC on the GUI thread only (qt/gc_policy.py)
    window = MainWindow()
    restore_hooks = window.exceptions.install()
    controller = ReplayController(window)
    files = [a for a in app.arguments()[1:] if not a.startswith("-")] or bundled_sample()
    window.show()
    QTimer.singleShot(0, collector.freeze)  # the window, modules and scene: never scanned again
    if files:
        QTimer.singleShot(0, lambda: window.request_open(files))
    quit_after = _quit_after_ms()
    if quit_after is not None and files:
        quitter = _QuitAfterOpen(window, quit_after)
        controller.worker.opened.connect(quitter.opened)
        controller.worker.open_failed.connect(quitter.failed)
        controller.worker.open_cancelled.connect(quitter.cancelled)
    elif quit_after is not None:
        QTimer.singleShot(quit_after, window.close)
    try:
        return int(app.exec())
    finally:
        controller.shutdown()
        restore_hooks()
        # Delete the scene graph while Qt is still alive: pyqtgraph items destroyed during
        # interpreter shutdown crash it.
        window.deleteLater()
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        collector.stop()


def _quit_after_ms() -> int | None:
    value = os.environ.get(QUIT_AFTER_ENV, "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        logging.getLogger(__name__).error("%s=%r is not a number of seconds; ignored", QUIT_AFTER_ENV, value)
        return None
    return max(0, int(seconds * 1000))
