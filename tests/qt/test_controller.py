"""The real worker wired to the window through ReplayController, on the bundled sample."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from replayterm.qt.controller import ReplayController
from replayterm.qt.main_window import MainWindow

SAMPLE = sorted(str(p) for p in (Path(__file__).resolve().parents[2] / "data").glob("*.csv.gz"))


@pytest.mark.skipif(not SAMPLE, reason="bundled sample not present")
def test_open_play_seek_and_close_through_the_window(
    qtbot: QtBot, settings: QSettings, tmp_path: Path
) -> None:
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    controller = ReplayController(window)
    window.show()
    window.request_open(SAMPLE)
    qtbot.waitUntil(lambda: window.sink.frames_rendered >= 1, timeout=120_000)
    assert window.book.text("symbol") != "—"
    assert any(b for _, b, _ in window.ladder.model.levels())
    start, end = window.transport.slider.span()
    assert end > start
    assert window.settings.value("files/recent") is not None

    window.transport.set_speed(100.0)
    window.transport.toggle_play()
    qtbot.waitUntil(lambda: window.tape.model.rowCount() > 20, timeout=20_000)
    window.transport.toggle_play()

    target = start + (end - start) // 2
    generation = window.sink.generation
    window.seek_requested.emit(target)
    qtbot.waitUntil(lambda: window.sink.generation > generation, timeout=20_000)
    qtbot.waitUntil(
        lambda: (
            abs(window.transport.slider.to_us(window.transport.slider.value()) - target)
            < (end - start) // 1000 + 1
        ),
        timeout=5000,
    )

    # a bad file: error shown, the replay that was open stays
    bad = tmp_path / "broken.csv"
    bad.write_text("not,a,tardis,file\n1,2,3,4\n")
    window.request_open([str(bad)])
    # wait on the window, not on the worker's signal: a waitSignal callback runs in the worker
    # thread and can return before the queued delivery to the window
    qtbot.waitUntil(window.error_dialog.isVisible, timeout=60_000)
    assert "broken.csv" in window.error_dialog.text()
    assert any(b for _, b, _ in window.ladder.model.levels())

    window.close()
    assert not controller.replay_thread.isRunning()
