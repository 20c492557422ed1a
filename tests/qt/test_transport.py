from __future__ import annotations

import math

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot
from qt_frames import T0, make_frame

from replayterm.qt.widgets.timeline_slider import TimelineSlider
from replayterm.qt.widgets.transport import SPEEDS, TransportBar

END = T0 + 3_600_000_000


@pytest.fixture
def bar(qtbot: QtBot) -> TransportBar:
    t = TransportBar()
    qtbot.addWidget(t)
    t.resize(1200, 40)
    t.show()
    qtbot.waitExposed(t)
    t.activateWindow()
    qtbot.waitUntil(t.isActiveWindow)
    t.apply_frame(make_frame(ts=T0 + 60_000_000, start=T0, end=END))
    return t


def test_space_toggles_play_and_pause(bar: TransportBar, qtbot: QtBot) -> None:
    with qtbot.waitSignal(bar.play, timeout=1000):
        qtbot.keyClick(bar, Qt.Key.Key_Space)
    assert bar.playing
    with qtbot.waitSignal(bar.pause, timeout=1000):
        qtbot.keyClick(bar, Qt.Key.Key_Space)
    assert not bar.playing


def test_plus_and_minus_step_through_the_speed_presets(bar: TransportBar, qtbot: QtBot) -> None:
    speeds: list[float] = []
    bar.speed_changed.connect(speeds.append)
    qtbot.keyClick(bar, Qt.Key.Key_Plus)
    qtbot.keyClick(bar, Qt.Key.Key_Equal)
    qtbot.keyClick(bar, Qt.Key.Key_Minus)
    assert speeds == [2.0, 5.0, 2.0]
    for _ in range(20):
        qtbot.keyClick(bar, Qt.Key.Key_Plus)
    assert math.isinf(speeds[-1])  # Max
    assert bar.speed.currentText() == "Max"
    for _ in range(20):
        qtbot.keyClick(bar, Qt.Key.Key_Minus)
    assert speeds[-1] == 0.1
    assert SPEEDS[0] == 0.1


def test_arrow_keys_step(bar: TransportBar, qtbot: QtBot) -> None:
    with qtbot.waitSignal(bar.step_message, timeout=1000):
        qtbot.keyClick(bar, Qt.Key.Key_Right)
    trade_steps: list[int] = []
    bar.step_trade.connect(lambda: trade_steps.append(1))
    msg_steps: list[int] = []
    bar.step_message.connect(lambda: msg_steps.append(1))
    qtbot.keyClick(bar, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert trade_steps == [1]
    assert msg_steps == []


def _goto(bar: TransportBar, qtbot: QtBot, text: str):  # type: ignore[no-untyped-def]
    qtbot.keyClick(bar, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    dlg = bar.goto_dialog
    assert dlg is not None
    qtbot.waitExposed(dlg)
    dlg.edit.setText(text)
    dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    return dlg


def test_ctrl_g_with_a_valid_time_seeks(bar: TransportBar, qtbot: QtBot) -> None:
    with qtbot.waitSignal(bar.seek_requested, timeout=1000) as blocker:
        _goto(bar, qtbot, "2024-07-18T12:30:00.250Z")
    assert blocker.args == [T0 + 30 * 60_000_000 + 250_000]


def test_ctrl_g_with_invalid_input_shows_an_error_and_does_not_seek(bar: TransportBar, qtbot: QtBot) -> None:
    seeks: list[int] = []
    bar.seek_requested.connect(seeks.append)
    dlg = _goto(bar, qtbot, "half past noon")
    assert dlg.isVisible()
    assert dlg.error.isVisible()
    assert "not a time" in dlg.error.text()
    dlg.edit.setText("2030-01-01T00:00:00Z")  # valid, but outside the data
    dlg.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok).click()
    assert "outside the data" in dlg.error.text()
    assert seeks == []
    dlg.reject()


def test_slider_drag_is_debounced_into_one_seek(bar: TransportBar, qtbot: QtBot) -> None:
    slider = bar.slider
    seeks: list[int] = []
    bar.seek_requested.connect(seeks.append)
    slider.setSliderDown(True)
    for v in range(100_000, 500_001, 20_000):
        slider.setSliderPosition(v)
    assert seeks == []  # still moving: nothing sent yet (the hold itself: see the manual-timer test)
    qtbot.waitUntil(lambda: len(seeks) == 1, timeout=1000)
    assert seeks == [T0 + (END - T0) // 2]
    slider.setSliderDown(False)  # release right after the debounced seek: nothing new to send
    assert not slider.busy  # no timer left that could send one later
    assert len(seeks) == 1
    # frames of the old generation must not pull the handle back while the seek is in flight
    bar.apply_frame(make_frame(ts=T0 + 60_000_000, start=T0, end=END, generation=0))
    assert slider.value() == 500_000
    bar.apply_frame(make_frame(ts=T0 + 1_800_000_000, start=T0, end=END, generation=1, reset=True))
    assert slider.value() == 500_000


def test_gaps_clock_and_lag_indicator(bar: TransportBar) -> None:
    bar.set_gaps([T0 + 1, T0 + 2])
    assert bar.slider.gaps() == [T0 + 1, T0 + 2]
    bar.apply_frame(make_frame(ts=T0 + 1_234_567, start=T0, end=END, playing=True, lag_us=0))
    assert bar.clock.text() == "12:00:01.234"
    assert bar.lag_level == "ok"
    bar.apply_frame(make_frame(ts=T0 + 2_000_000, start=T0, end=END, playing=True, lag_us=300_000))
    assert bar.lag_level == "warn"
    assert "300 ms" in bar.lag.text()
    bar.apply_frame(make_frame(ts=T0 + 3_000_000, start=T0, end=END, playing=True, lag_us=5_000_000))
    assert bar.lag_level == "bad"


MIDNIGHT = 1_721_347_200_000_000  # 2024-07-19T00:00:00Z


def test_ctrl_g_time_of_day_on_a_file_spanning_midnight(bar: TransportBar, qtbot: QtBot) -> None:
    start, end = MIDNIGHT - 3 * 60_000_000, MIDNIGHT + 5 * 60_000_000  # 23:57 -> 00:05
    bar.apply_frame(make_frame(ts=MIDNIGHT + 2 * 60_000_000, start=start, end=end))  # clock 00:02
    with qtbot.waitSignal(bar.seek_requested, timeout=1000) as blocker:
        _goto(bar, qtbot, "00:02:30")
    assert blocker.args == [MIDNIGHT + 150_000_000]
    # the replay answered the seek (a new generation), then moved to 23:59 on the 18th
    bar.apply_frame(make_frame(ts=MIDNIGHT - 60_000_000, start=start, end=end, generation=99))
    assert bar.clock.text().startswith("23:59")
    with qtbot.waitSignal(bar.seek_requested, timeout=1000) as blocker:
        _goto(bar, qtbot, "00:02:30")  # falls on one date of the data only: the 19th
    assert blocker.args == [MIDNIGHT + 150_000_000]


def test_goto_dialog_error_and_hint_do_not_overlap(bar: TransportBar, qtbot: QtBot) -> None:
    dlg = _goto(bar, qtbot, "2030-01-01T00:00:00Z")  # outside the data: a long, wrapped error
    assert dlg.error.isVisible()
    qtbot.wait(50)  # let the dialog take its new size
    hint, error = dlg.hint.geometry(), dlg.error.geometry()
    assert not hint.intersects(error)
    for label in (dlg.hint, dlg.error):  # each gets the height its wrapped text needs
        needed = label.heightForWidth(label.width())
        assert label.height() >= needed
        assert dlg.rect().contains(label.geometry())
    dlg.reject()


def test_reaching_the_end_right_after_play_shows_play_again(bar: TransportBar, qtbot: QtBot) -> None:
    """At Max speed the end came within the bar's hold after Play: the button kept showing
    pause (and Space then restarted the replay instead of pausing it)."""
    with qtbot.waitSignal(bar.play, timeout=1000):
        qtbot.keyClick(bar, Qt.Key.Key_Space)
    bar.apply_frame(make_frame(ts=END, start=T0, end=END, playing=False, at_end=True))
    assert not bar.playing
    with qtbot.waitSignal(bar.play, timeout=1000):  # Space plays (from the start), it does not pause
        qtbot.keyClick(bar, Qt.Key.Key_Space)


def test_a_stale_end_frame_does_not_undo_play_at_the_end(bar: TransportBar, qtbot: QtBot) -> None:
    bar.apply_frame(make_frame(ts=END, start=T0, end=END, playing=False, at_end=True, generation=3))
    with qtbot.waitSignal(bar.play, timeout=1000):
        qtbot.keyClick(bar, Qt.Key.Key_Space)  # at the end: the worker restarts (a new generation)
    bar.apply_frame(make_frame(ts=END, start=T0, end=END, playing=False, at_end=True, generation=3))
    assert bar.playing  # in flight from before the press
    bar.apply_frame(make_frame(ts=T0, start=T0, end=END, playing=True, generation=4, reset=True))
    assert bar.playing


class ManualTimer(QTimer):
    """A single-shot timer that fires only when the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.active = False

    def start(self, *_args: object) -> None:  # type: ignore[override]
        self.active = True

    def stop(self) -> None:  # type: ignore[override]
        self.active = False

    def isActive(self) -> bool:  # type: ignore[override]
        return self.active

    def fire(self) -> None:
        self.active = False
        self.timeout.emit()


def test_debounce_sends_one_seek_when_its_timer_fires(qtbot: QtBot) -> None:
    timer = ManualTimer()
    slider = TimelineSlider(debounce=timer)
    qtbot.addWidget(slider)
    slider.set_span(T0, END)
    seeks: list[int] = []
    slider.seek_requested.connect(seeks.append)
    slider.setSliderDown(True)
    for v in range(100_000, 500_001, 20_000):
        slider.setSliderPosition(v)
    assert seeks == []  # still moving: held back however long that takes
    assert slider.busy
    timer.fire()
    assert seeks == [T0 + (END - T0) // 2]
    slider.setSliderDown(False)  # released right after the debounced seek: nothing new to send
    assert seeks == [T0 + (END - T0) // 2]
    slider.setSliderDown(True)
    slider.setSliderPosition(600_000)
    slider.setSliderDown(False)  # a release sends what is pending at once
    assert len(seeks) == 2
    assert not timer.active
