"""What the window shows equals the core's book at the shown frame's time: after play, seek and step."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from qt_sync import sync_worker

from replayterm.core.data import open_sources
from replayterm.core.frames import Frame
from replayterm.core.replay.cursor import ReplayCursor
from replayterm.core.replay.instruments import build_instruments
from replayterm.qt.controller import ReplayController
from replayterm.qt.main_window import MainWindow

SAMPLE = sorted(str(p) for p in (Path(__file__).resolve().parents[2] / "data").glob("*.csv.gz"))


def assert_ladder_equals_core(window: MainWindow, frame: Frame, reference: ReplayCursor) -> None:
    reference.seek(frame.local_ts)
    replayer = reference.instruments[0].book
    assert replayer is not None
    core_bids = {round(p, 6): a for p, a in replayer.book.levels(1, 400).tolist()}
    core_asks = {round(p, 6): a for p, a in replayer.book.levels(-1, 400).tolist()}
    rows = window.ladder.model.levels()
    shown = [p for p, _, _ in rows]
    lo, hi = min(shown), max(shown)
    seen_bids = {round(p, 6): b for p, b, _ in rows if b > 0}
    seen_asks = {round(p, 6): a for p, _, a in rows if a > 0}
    assert seen_bids == {p: a for p, a in core_bids.items() if lo <= p <= hi}
    assert seen_asks == {p: a for p, a in core_asks.items() if lo <= p <= hi}
    assert seen_bids
    assert seen_asks


@pytest.mark.skipif(not SAMPLE, reason="bundled sample not present")
def test_ladder_equals_the_core_book_after_play_seek_and_step(qtbot: QtBot, settings: QSettings) -> None:
    reference = ReplayCursor(build_instruments(open_sources(SAMPLE)))
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    controller = ReplayController(window)
    shown: list[Frame] = []
    window.sink.add_consumer(shown.append)
    window.show()
    window.request_open(SAMPLE)
    qtbot.waitUntil(lambda: bool(shown), timeout=120_000)
    window.ladder.model.set_grouping(1)

    def settle() -> Frame:
        """Wait for the worker through its queue, then render whatever frame is still pending."""
        sync_worker(qtbot, controller.worker, window.sink)
        return shown[-1]

    window.transport.set_speed(25.0)
    window.play.emit()
    qtbot.waitUntil(lambda: len(shown) > 20, timeout=20_000)
    window.pause.emit()
    assert_ladder_equals_core(window, settle(), reference)

    start, end = reference.start_ts, reference.end_ts
    for target in (start + (end - start) * 3 // 4, start + (end - start) // 5):
        window.seek_requested.emit(target)
        qtbot.waitUntil(lambda t=target: shown[-1].local_ts == t, timeout=20_000)
        assert_ladder_equals_core(window, settle(), reference)

    before = shown[-1].events_applied
    window.step_message.emit()
    qtbot.waitUntil(lambda: shown[-1].events_applied > before, timeout=10_000)
    assert_ladder_equals_core(window, settle(), reference)

    window.speed_changed.emit(2.0)
    window.play.emit()
    qtbot.waitUntil(lambda: shown[-1].playing, timeout=10_000)
    assert shown[-1].speed == 2.0
    window.pause.emit()

    window.close()
    controller.shutdown()
    assert not controller.replay_thread.isRunning()
    assert not [t for t in threading.enumerate() if t.name.startswith("csv-format")]
    assert np.isfinite(shown[-1].stats.mid)
