"""Guards for GUI tests: a test leaves no QThread running and no top-level window open."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

THREAD_GRACE_MS = 5000  # a thread told to stop may take a moment to end


@pytest.fixture(autouse=True)
def no_thread_or_window_left(qapp: QApplication, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A test must stop every QThread it started and close every top-level window it opened
    (left running, they outlive the test and break later ones). Set up before pytest-qt's own
    fixtures, so this runs after ``qtbot`` closed the widgets it was given."""
    started: list[QThread] = []
    start = QThread.start

    def recording_start(self: QThread, *args: object) -> None:
        started.append(self)
        start(self, *args)

    monkeypatch.setattr(QThread, "start", recording_start)
    before = {id(w) for w in qapp.topLevelWidgets() if w.isVisible()}
    yield
    running = [t for t in started if not t.wait(THREAD_GRACE_MS)]
    windows = [w for w in qapp.topLevelWidgets() if w.isVisible() and id(w) not in before]
    for w in windows:
        w.close()
    assert not running, f"the test left QThreads running: {[t.objectName() or t for t in running]}"
    assert not windows, f"the test left windows open: {[type(w).__name__ for w in windows]}"
