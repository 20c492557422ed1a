"""Transport bar: play/pause, speed, stepping, timeline, go-to, clock, throughput and lag.

It only emits commands (signals) and shows what frames report; it never talks to the worker.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from replayterm.core.frames import Frame
from replayterm.qt import theme
from replayterm.qt.numfmt import format_rate, format_speed
from replayterm.qt.timefmt import format_duration, format_utc
from replayterm.qt.widgets import icons
from replayterm.qt.widgets.goto_dialog import GoToTimeDialog
from replayterm.qt.widgets.timeline_slider import TimelineSlider

SPEEDS: tuple[float, ...] = (0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, math.inf)
LAG_WARN_US = 100_000
LAG_BAD_US = 1_000_000
_HOLD_S = 0.3  # after a user command, frames still in flight must not undo what the bar shows
_SEEK_HOLD_S = 2.0


def _shortcuts(*keys: str) -> list[QKeySequence]:
    return [QKeySequence(k) for k in keys]


class TransportBar(QWidget):
    play = Signal()
    pause = Signal()
    seek_requested = Signal("qint64")  # type: ignore[arg-type]
    speed_changed = Signal(float)
    step_message = Signal()
    step_trade = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transport")
        self._playing = False
        self._play_hold = 0.0
        self._seek_hold = 0.0
        self._seek_generation = -1
        self._generation = -1
        self._at_end = False
        self._pressed_at_end: int | None = None  # generation of a Play pressed at the end
        self._now: int | None = None
        self.goto_dialog: GoToTimeDialog | None = None

        self._build_actions()
        self._build_widgets()
        self.set_has_data(False)

    # ---- construction ------------------------------------------------------------------------
    def _action(self, text: str, keys: list[QKeySequence], slot: object, tip: str = "") -> QAction:
        act = QAction(text, self)
        act.setShortcuts(keys)
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(slot)
        shown = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys[:2])
        act.setToolTip(f"{tip or text.replace('&', '')} ({shown})")
        self.addAction(act)
        return act

    def _build_actions(self) -> None:
        self.act_play = self._action("&Play / Pause", _shortcuts("Space"), self.toggle_play)
        self.act_play.setIcon(icons.play())
        self.act_step = self._action(
            "Step One &Message", _shortcuts("Right"), self.step_message.emit, "Apply the next message"
        )
        self.act_step.setIcon(icons.step())
        self.act_step_trade = self._action(
            "Step to Next &Trade", _shortcuts("Shift+Right"), self.step_trade.emit, "Run to the next trade"
        )
        self.act_step_trade.setIcon(icons.step_trade())
        self.act_faster = self._action(
            "&Faster", _shortcuts("+", "=", "Ctrl+Up"), lambda: self.step_speed(+1)
        )
        self.act_slower = self._action(
            "&Slower", _shortcuts("-", "_", "Ctrl+Down"), lambda: self.step_speed(-1)
        )
        self.act_goto = self._action("&Go to Time…", _shortcuts("Ctrl+G"), self.open_goto)
        self.act_goto.setIcon(icons.go_to())
        self.act_start = self._action("Go to &Start", _shortcuts("Home"), self._seek_start)
        self.act_start.setIcon(icons.to_start())
        self.act_end = self._action("Go to &End", _shortcuts("End"), self._seek_end)

    def actions_for_menu(self) -> list[QAction | None]:
        return [
            self.act_play,
            self.act_step,
            self.act_step_trade,
            None,
            self.act_faster,
            self.act_slower,
            None,
            self.act_goto,
            self.act_start,
            self.act_end,
        ]

    def _button(self, action: QAction) -> QToolButton:
        b = QToolButton(self)
        b.setDefaultAction(action)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        b.setAutoRaise(True)
        b.setIconSize(QSize(18, 18))
        return b

    def _build_widgets(self) -> None:
        self.play_button = self._button(self.act_play)
        self.play_button.setObjectName("playButton")
        self.speed = QComboBox(self)
        for s in SPEEDS:
            self.speed.addItem(format_speed(s), s)
        self.speed.setCurrentIndex(SPEEDS.index(1))
        self.speed.setToolTip("Replay speed (+ / −). Max replays as fast as the machine allows.")
        self.speed.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.speed.currentIndexChanged.connect(lambda i: self.speed_changed.emit(float(SPEEDS[i])))
        self.slider = TimelineSlider(self)
        self.slider.seek_requested.connect(self._on_slider_seek)

        mono = theme.mono_font(10)
        self.clock = QLabel("--:--:--.---", self)
        self.clock.setObjectName("clock")
        self.clock.setFont(theme.mono_font(12))
        self.clock.setToolTip("Replay clock: receive time (local_timestamp), UTC")
        self.clock_sub = QLabel("", self)
        self.clock_sub.setObjectName("dimLabel")
        self.clock_sub.setFont(theme.mono_font(8.5))
        self.clock_sub.setToolTip("Date and exchange time of the last applied event, UTC")
        clock_box = QVBoxLayout()
        clock_box.setSpacing(0)
        clock_box.setContentsMargins(0, 0, 0, 0)
        clock_box.addWidget(self.clock)
        clock_box.addWidget(self.clock_sub)

        self.rate = QLabel("0 ev/s", self)
        self.rate.setFont(mono)
        self.rate.setToolTip("Events applied per second of wall time")
        self.rate.setMinimumWidth(self.rate.fontMetrics().horizontalAdvance("000.0k ev/s"))
        self.rate.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.lag = QLabel("● in sync", self)
        self.lag.setObjectName("lag")
        self.lag.setFont(mono)
        self.lag.setMinimumWidth(self.lag.fontMetrics().horizontalAdvance("● lag 00.0 s"))
        self.lag.setToolTip("How far the replay is behind the requested speed")
        self._lag_level = ""
        self._set_lag_level("ok")

        row = QHBoxLayout(self)
        row.setContentsMargins(6, 3, 6, 3)
        row.setSpacing(4)
        row.addWidget(self._button(self.act_start))
        row.addWidget(self.play_button)
        row.addWidget(self._button(self.act_step))
        row.addWidget(self._button(self.act_step_trade))
        row.addSpacing(6)
        row.addWidget(self.speed)
        row.addSpacing(8)
        row.addWidget(self.slider, 1)
        row.addSpacing(8)
        row.addWidget(self._button(self.act_goto))
        row.addLayout(clock_box)
        row.addSpacing(10)
        row.addWidget(self.rate)
        row.addSpacing(6)
        row.addWidget(self.lag)

    # ---- commands ----------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def current_speed(self) -> float:
        return float(SPEEDS[self.speed.currentIndex()])

    def toggle_play(self) -> None:
        if self._playing:
            self._show_playing(False)
            self.pause.emit()
        else:
            self._show_playing(True)
            self.play.emit()
        # A Play at the end restarts the replay in a new generation: end frames of the old one
        # are stale; any other end frame is the replay really reaching the end.
        self._pressed_at_end = self._generation if self._at_end else None
        self._play_hold = time.monotonic() + _HOLD_S

    def step_speed(self, step: int) -> None:
        i = min(max(self.speed.currentIndex() + step, 0), self.speed.count() - 1)
        self.speed.setCurrentIndex(i)

    def set_speed(self, speed: float) -> None:
        """Select the preset nearest to ``speed`` (emits speed_changed if it changes)."""
        finite = [s for s in SPEEDS if math.isfinite(s)]
        if math.isinf(speed):
            self.speed.setCurrentIndex(len(SPEEDS) - 1)
        else:
            best = min(finite, key=lambda s: abs(math.log(s) - math.log(max(speed, 1e-9))))
            self.speed.setCurrentIndex(SPEEDS.index(best))

    def open_goto(self) -> GoToTimeDialog:
        """Non-blocking (window-modal) dialog; on OK a seek is emitted."""
        span = self.slider.span()
        dlg = GoToTimeDialog(self.window(), self._now, span if span[1] > span[0] else None)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(lambda: self._request_seek(dlg.value_us))
        self.goto_dialog = dlg
        dlg.open()
        return dlg

    def _seek_start(self) -> None:
        start, end = self.slider.span()
        if end > start:
            self._request_seek(start)

    def _seek_end(self) -> None:
        start, end = self.slider.span()
        if end > start:
            self._request_seek(end)

    def _on_slider_seek(self, us: int) -> None:
        self._request_seek(us, from_slider=True)

    def _request_seek(self, us: int | None, from_slider: bool = False) -> None:
        if us is None:
            return
        if not from_slider:
            self.slider.set_time(us)
        self._seek_generation = self._generation
        self._seek_hold = time.monotonic() + _SEEK_HOLD_S
        self._set_clock(int(us), None)
        self.seek_requested.emit(int(us))

    # ---- display -----------------------------------------------------------------------------
    def set_has_data(self, has: bool) -> None:
        for act in (
            self.act_play,
            self.act_step,
            self.act_step_trade,
            self.act_goto,
            self.act_start,
            self.act_end,
        ):
            act.setEnabled(has)

    def set_gaps(self, gaps_us: list[int]) -> None:
        self.slider.set_gaps(gaps_us)

    def set_marks(self, marks_us: list[int]) -> None:
        self.slider.set_marks(marks_us)

    def _show_playing(self, on: bool) -> None:
        if on == self._playing:
            return
        self._playing = on
        self.act_play.setIcon(icons.pause() if on else icons.play())
        self.act_play.setText("&Pause" if on else "&Play")

    def _set_clock(self, local_us: int, exch_us: int | None) -> None:
        self._now = local_us
        self.clock.setText(format_utc(local_us, date=False))
        date = format_utc(local_us)[:10]
        exch = format_utc(exch_us, date=False) if exch_us else "—"
        self.clock_sub.setText(f"{date}  exch {exch}")

    def _set_lag_level(self, level: str) -> None:
        if level != self._lag_level:
            self._lag_level = level
            self.lag.setProperty("level", level)
            self.lag.style().unpolish(self.lag)
            self.lag.style().polish(self.lag)

    @property
    def lag_level(self) -> str:
        return self._lag_level

    def apply_frame(self, frame: Frame) -> None:
        if not self.act_play.isEnabled():
            self.set_has_data(True)
        self._generation = frame.generation
        self.slider.set_span(frame.start_ts, frame.end_ts)
        now = time.monotonic()
        seek_pending = now < self._seek_hold and frame.generation <= self._seek_generation
        if not seek_pending:
            self._seek_hold = 0.0
            self.slider.set_time(frame.local_ts)
            self._set_clock(frame.local_ts, frame.exch_ts)
        self._at_end = frame.at_end
        fresh_end = frame.at_end and (self._pressed_at_end is None or frame.generation > self._pressed_at_end)
        if now >= self._play_hold or fresh_end:
            self._show_playing(frame.playing and not frame.at_end)
        self.rate.setText(f"{format_rate(frame.events_per_s)} ev/s")
        lag = max(0, int(frame.lag_us))
        if frame.playing and lag >= LAG_WARN_US:
            self._set_lag_level("bad" if lag >= LAG_BAD_US else "warn")
            self.lag.setText(f"● lag {format_duration(lag)}")
        else:
            self._set_lag_level("ok")
            self.lag.setText("● at end" if frame.at_end else "● in sync")
