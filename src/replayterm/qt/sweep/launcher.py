"""``SweepLauncher``: the Strategy ▸ Sweep… action and the one sweep dialog of a window.

It hands the dialog the window's open files and loaded strategy files, and turns a
double-clicked run into the window's own commands: open the run's files if they are not the
ones open (a per-day run replays its own day, so the screen shows that run's fills and PnL),
load the strategy with the run's parameters, seek to where the run starts, play.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from replayterm.core.session import SessionSettings
from replayterm.qt.sweep.dialog import SweepDialog


class SweepLauncher(QObject):
    open_requested = Signal(list)  # the run's files, when other files are open
    load_strategy = Signal(str, dict)  # spec, parameters
    seek_requested = Signal("qint64")  # type: ignore[arg-type]
    play = Signal()

    def __init__(
        self,
        files: Callable[[], list[str]],
        strategy_specs: Callable[[], list[str]],
        parent: QWidget,
        settings: Callable[[], SessionSettings] | None = None,
    ) -> None:
        super().__init__(parent)
        self._files = files
        self._specs = strategy_specs
        self._settings = settings
        self._parent = parent
        self.dialog: SweepDialog | None = None
        self.action = QAction("S&weep…", self)
        self.action.setShortcut(QKeySequence("Ctrl+Shift+W"))
        self.action.setToolTip("Run the strategy over a grid of parameters (and days) on the open data")
        self.action.triggered.connect(self.show)

    def show(self) -> SweepDialog:
        if self.dialog is None:
            self.dialog = SweepDialog(self._settings, self._parent)
            self.dialog.replay_requested.connect(self._replay)
        dialog = self.dialog
        if not dialog.running:
            dialog.set_data(self._files())
            dialog.set_strategies(self._specs())
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def _replay(self, spec: str, params: dict[str, Any], files: list[str], start_us: object) -> None:
        if files and sorted(map(os.path.abspath, files)) != sorted(map(os.path.abspath, self._files())):
            self.open_requested.emit(list(files))
        self.load_strategy.emit(spec, params)
        self.seek_requested.emit(int(start_us) if isinstance(start_us, int) else 0)
        self.play.emit()

    def shutdown(self) -> None:
        if self.dialog is not None:
            self.dialog.stop_and_wait()
