"""Bookmarks on the timeline and loop-a-region playback.

Playback ▸ Add Bookmark (Ctrl+B) marks the current replay time (a yellow flag on the timeline);
Next/Previous Bookmark (Alt+Right / Alt+Left) seek to them. Set Loop Start / End (Alt+[ / Alt+])
and Loop Region (Alt+L): while it is on and playing, reaching the end seeks back to the start.
Bookmarks are kept per set of opened files in the settings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence

from replayterm.core.frames import Frame
from replayterm.qt.widgets.timeline_slider import TimelineSlider


class Bookmarks(QObject):
    seek_requested = Signal("qint64")  # type: ignore[arg-type]

    def __init__(self, slider: TimelineSlider, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.slider = slider
        self.settings = settings
        self.marks: list[int] = []
        self.loop_start: int | None = None
        self.loop_end: int | None = None
        self.now: int | None = None
        self.playing = False
        self._key = ""
        self._looped_at: int | None = None

        def action(text: str, key: str, slot: Callable[[], object], checkable: bool = False) -> QAction:
            act = QAction(text, self, checkable=checkable)
            act.setShortcut(QKeySequence(key))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(slot)
            return act

        self.act_add = action("Add &Bookmark", "Ctrl+B", self.add)
        self.act_next = action("&Next Bookmark", "Alt+Right", lambda: self.jump(+1))
        self.act_prev = action("Pre&vious Bookmark", "Alt+Left", lambda: self.jump(-1))
        self.act_clear = action("Clear Bookmarks", "", self.clear)
        self.act_loop_start = action("Set Loop &Start", "Alt+[", self.set_loop_start)
        self.act_loop_end = action("Set Loop &End", "Alt+]", self.set_loop_end)
        self.act_loop = action("&Loop Region", "Alt+L", self._update_slider, checkable=True)

    def actions(self) -> list[QAction | None]:
        return [
            self.act_add,
            self.act_prev,
            self.act_next,
            self.act_clear,
            None,
            self.act_loop_start,
            self.act_loop_end,
            self.act_loop,
        ]

    # ---- data ----------------------------------------------------------------------------------
    def set_files(self, paths: list[str]) -> None:
        """Bookmarks of this set of files (from the settings)."""
        self._key = hashlib.sha256("|".join(sorted(paths)).encode()).hexdigest()[:16]
        raw = self.settings.value(f"bookmarks/{self._key}", "")
        self.marks = sorted(int(x) for x in str(raw).split(",") if x.strip().lstrip("-").isdigit())
        self.loop_start = self.loop_end = None
        self.act_loop.setChecked(False)
        self._update_slider()

    def apply_frame(self, frame: Frame) -> None:
        self.now = int(frame.local_ts)
        self.playing = bool(frame.playing)
        region = self.region()
        due = self.act_loop.isChecked() and region is not None and self.playing and self.now >= region[1]
        if due and region is not None and self._looped_at != frame.generation:
            self._looped_at = frame.generation  # one seek per pass, not one per late frame
            self.seek_requested.emit(region[0])

    def region(self) -> tuple[int, int] | None:
        if self.loop_start is None or self.loop_end is None or self.loop_end <= self.loop_start:
            return None
        return self.loop_start, self.loop_end

    # ---- commands --------------------------------------------------------------------------------
    def add(self) -> None:
        if self.now is not None and self.now not in self.marks:
            self.marks = sorted([*self.marks, self.now])
            self._save()

    def clear(self) -> None:
        self.marks = []
        self._save()

    def jump(self, direction: int) -> None:
        if self.now is None or not self.marks:
            return
        later = [m for m in self.marks if m > self.now]
        earlier = [m for m in self.marks if m < self.now - 500_000]  # not the one just jumped to
        target = (later[0] if later else None) if direction > 0 else (earlier[-1] if earlier else None)
        if target is not None:
            self.seek_requested.emit(target)

    def set_loop_start(self) -> None:
        self.loop_start = self.now
        self._update_slider()

    def set_loop_end(self) -> None:
        self.loop_end = self.now
        self._update_slider()

    def _save(self) -> None:
        if self._key:
            self.settings.setValue(f"bookmarks/{self._key}", ",".join(str(m) for m in self.marks))
        self._update_slider()

    def _update_slider(self) -> None:
        self.slider.set_bookmarks(self.marks)
        self.slider.set_loop(self.region())
