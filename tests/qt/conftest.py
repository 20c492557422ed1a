"""GUI test setup: private settings file per test, helpers to build frames by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

import replayterm.qt  # noqa: F401  (applies the PySide6 compatibility guard first)
from replayterm.qt.settings import ENV_SETTINGS, open_settings


@pytest.fixture(autouse=True)
def settings_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Nothing a test does may reach the user's real settings."""
    path = tmp_path / "settings.ini"
    monkeypatch.setenv(ENV_SETTINGS, str(path))
    return path


@pytest.fixture
def settings(settings_path: Path) -> QSettings:
    return open_settings(settings_path)
