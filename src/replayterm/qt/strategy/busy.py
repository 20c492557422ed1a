"""Progress of long strategy work (start, reload, new parameters, seeks that re-run strategies)
and the way out of a strategy callback that does not return.

``StallMonitor`` watches the worker from the GUI thread: it is *stalled* when the worker has been
busy for more than ``stall_after_s``, when a command got no answer (no frame, no strategy list)
for that long, or when the replay plays and no frame came for that long. ``BusyIndicator`` (status
bar) shows the progress with Cancel, and "Stop strategy" while stalled.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QWidget

from replayterm.qt.widgets.open_progress import OpenProgress

STALL_AFTER_S = 2.0
CHECK_MS = 200


class StallMonitor(QObject):
    stalled_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, stall_after_s: float = STALL_AFTER_S) -> None:
        super().__init__(parent)
        self.stall_after_s = stall_after_s
        self.stalled = False
        self._busy_since: float | None = None
        self._waiting_since: float | None = None
        self._playing = False
        self._last_activity = time.monotonic()
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_MS)
        self._timer.timeout.connect(self.check)

    def command_sent(self) -> None:
        if self._waiting_since is None:
            self._waiting_since = time.monotonic()
        self._timer.start()

    def activity(self, playing: bool | None = None) -> None:
        """The worker answered (a frame, a strategy list)."""
        self._last_activity = time.monotonic()
        self._waiting_since = None
        if playing is not None:
            self._playing = playing
        self.check()

    def busy(self, fraction: float) -> None:
        now = time.monotonic()
        self._last_activity = now
        if fraction < 0 or not math.isfinite(fraction):
            self._busy_since = None
            self._waiting_since = None
        elif self._busy_since is None:
            self._busy_since = now
            self._timer.start()
        self.check()

    def check(self) -> None:
        now = time.monotonic()
        limit = self.stall_after_s
        stalled = (
            (self._busy_since is not None and now - self._busy_since > limit)
            or (self._waiting_since is not None and now - self._waiting_since > limit)
            or (self._playing and now - self._last_activity > limit)
        )
        if stalled != self.stalled:
            self.stalled = stalled
            self.stalled_changed.emit(stalled)
        if self._busy_since is None and self._waiting_since is None and not self._playing:
            self._timer.stop()
        elif not self._timer.isActive():
            self._timer.start()


class BusyIndicator(QWidget):
    """Status-bar progress with Cancel; "Stop strategy" appears while the worker seems stuck."""

    cancel_clicked = Signal()
    stop_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress = OpenProgress(self)
        self.progress.cancel.setToolTip("Stop this strategy run; the strategy is left disabled (Esc)")
        self.progress.cancel_clicked.connect(self.cancel_clicked)
        self.stop = QToolButton(self)
        self.stop.setText("Stop strategy")
        self.stop.setObjectName("stopStrategy")
        self.stop.setStyleSheet("QToolButton#stopStrategy { color: #f85149; font-weight: 600; }")
        self.stop.setToolTip(
            "Stop the strategy callback that does not return; that strategy is disabled (Ctrl+.)"
        )
        self.stop.clicked.connect(self.stop_clicked)
        self.stop.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.progress)
        layout.addWidget(self.stop)
        self._busy = False
        self.hide()

    @property
    def busy(self) -> bool:
        return self._busy

    def set_busy(self, fraction: float, message: str) -> None:
        if fraction < 0 or not math.isfinite(fraction):
            self._busy = False
            self.progress.finish()
            self._refresh()
            return
        self._busy = True
        self.progress.set_progress(fraction, message or "Running strategies")
        self._refresh()

    def set_stalled(self, stalled: bool) -> None:
        self.stop.setVisible(stalled)
        if stalled and not self._busy:
            self.progress.message.setText("A strategy callback is not returning")
            self.progress.message.show()
        self._refresh()

    def click_cancel(self) -> None:
        if self.progress.isVisible() and self.progress.cancel.isEnabled():
            self.progress.cancel.click()

    def _refresh(self) -> None:
        stalled = not self.stop.isHidden()
        self.progress.setVisible(self._busy or stalled)
        self.progress.bar.setVisible(self._busy)
        self.progress.cancel.setVisible(self._busy)
        self.setVisible(self._busy or stalled)
