"""GUI test setup: private settings file per test, helpers to build frames by hand."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

import replayterm.qt  # noqa: F401  (applies the PySide6 compatibility guard first)
from replayterm.qt.settings import ENV_SETTINGS, open_settings


@pytest.fixture(autouse=True)
def collect_garbage_on_the_gui_thread() -> Iterator[None]:
    """Python's cyclic collector runs in whichever thread happens to allocate. When it frees a Qt
    object there (say a window left over from an earlier test, collected by the replay server's
    encoding thread) while the GUI thread deletes widgets, shiboken waits for the GIL under a Qt
    mutex the GUI thread waits for: a deadlock seen once in a full run. So during a GUI test the
    collector runs only here, on the GUI thread, before and after the test."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
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
