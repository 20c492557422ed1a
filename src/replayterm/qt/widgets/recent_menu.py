"""File ▸ Open Recent, filled from the settings each time it opens."""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu, QWidget

from replayterm.qt import settings as st


class RecentFilesMenu(QMenu):
    def __init__(self, settings: QSettings, open_paths: Callable[[list[str]], None], parent: QWidget) -> None:
        super().__init__("Open &Recent", parent)
        self._settings = settings
        self._open = open_paths
        self.aboutToShow.connect(self.refresh)

    def refresh(self) -> None:
        self.clear()
        recent = st.recent_files(self._settings)
        for i, path in enumerate(recent, 1):
            act = self.addAction(f"&{i % 10}  {os.path.basename(path)}")
            act.setToolTip(path)
            act.setStatusTip(path)
            act.setEnabled(os.path.isfile(path))
            act.triggered.connect(lambda _=False, p=path: self._open([p]))
        if not recent:
            self.addAction("(none)").setEnabled(False)
        self.addSeparator()
        clear = self.addAction("&Clear Recent")
        clear.setEnabled(bool(recent))
        clear.triggered.connect(lambda: st.clear_recent_files(self._settings))
