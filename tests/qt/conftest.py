"""GUI test setup: private settings file per test, helpers to build frames by hand."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from qt_guards import no_thread_or_window_left  # noqa: F401  (an autouse fixture)

import replayterm.qt  # noqa: F401  (applies the PySide6 compatibility guard first)
from replayterm.qt.gc_policy import GuiCollector
from replayterm.qt.settings import ENV_SETTINGS, open_settings


@pytest.fixture(autouse=True)
def collect_garbage_on_the_gui_thread(qapp: QApplication) -> Iterator[GuiCollector]:
    """The app's GC policy during every GUI test: cyclic garbage is collected only on the GUI
    thread, from a timer (replayterm.qt.gc_policy says why: a deadlock seen once in a full run)."""
    gc.collect()
    collector = GuiCollector(qapp)
    try:
        yield collector
    finally:
        collector.stop()
        gc.collect()


@pytest.fixture(autouse=True)
def settings_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Nothing a test does may reach the user's real settings."""
    path = tmp_path / "settings.ini"
    monkeypatch.setenv(ENV_SETTINGS, str(path))
    return path


@pytest.fixture
def settings(settings_path: Path) -> QSettings:
    return open_settings(settings_path)
