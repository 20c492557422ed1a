"""What the screenshot scripts share: run Qt's event loop for a while, or until something holds."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtWidgets import QApplication


def wait(app: QApplication, condition: Callable[[], object], timeout: float = 600.0) -> bool:
    """Process events until ``condition()`` is true (True) or ``timeout`` seconds pass (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        app.processEvents()
        time.sleep(0.002)
    return False


def pump(app: QApplication, seconds: float) -> None:
    """Process events for ``seconds`` (the app plays on meanwhile)."""
    wait(app, lambda: False, seconds)
