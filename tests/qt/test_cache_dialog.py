"""File ▸ Cache…: the size cap is saved in the settings and applied; Clear removes unused entries."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from replayterm.core.data import cache_admin, open_sources
from replayterm.qt.widgets.cache_dialog import CAP_KEY, CacheDialog, apply_saved_cap


@pytest.fixture(autouse=True)
def no_cap_from_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_admin, "_cap_gb", None)
    monkeypatch.setattr(cache_admin, "_in_use", set())
    monkeypatch.delenv(cache_admin.ENV_CAP, raising=False)


def test_cap_is_saved_and_applied(qtbot: QtBot, settings: QSettings) -> None:
    dialog = CacheDialog(settings)
    qtbot.addWidget(dialog)
    assert dialog.cap.value() == cache_admin.DEFAULT_CAP_GB
    dialog.cap.setValue(12.5)
    dialog.accept()
    assert float(str(settings.value(CAP_KEY))) == 12.5
    assert cache_admin.cap_bytes() == 12_500_000_000
    cache_admin.set_cap_gb(None)
    apply_saved_cap(settings)  # as the next start of the app does
    assert cache_admin.cap_bytes() == 12_500_000_000
    dialog = CacheDialog(settings)
    qtbot.addWidget(dialog)
    dialog.cap.setValue(0)
    assert dialog.cap.text() == "no cap"
    dialog.accept()
    assert cache_admin.cap_bytes() is None


def test_clear_keeps_entries_in_use(qtbot: QtBot, settings: QSettings, tmp_path: Path) -> None:
    header = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"
    paths = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.csv"
        path.write_text(header + "\nex,A,1,2,3,buy,100,1\n")
        paths.append(path)
    open_sources(paths[0])
    cache_admin._in_use.clear()  # opened by an earlier replay: no longer in use
    open_sources(paths[1])
    dialog = CacheDialog(settings)
    qtbot.addWidget(dialog)
    assert "in 2 entries" in dialog.usage.text()
    dialog.clear_button.click()
    assert "in 1 entries" in dialog.usage.text()
    (left,) = cache_admin.list_items()
    assert left.source == str(paths[1].resolve())
