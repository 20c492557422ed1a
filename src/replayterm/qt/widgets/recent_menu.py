"""File ▸ Open Recent, filled from the settings each time it opens: the sets of files opened
together (a day's book and trades, several days), each named by its files and its folder."""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu, QWidget

from replayterm.qt import settings as st

MAX_NAMES = 3


def set_label(paths: list[str]) -> str:
    """``book.csv.gz + trades.csv.gz — /data/day1`` (the folders when they differ)."""
    names = [os.path.basename(p) for p in paths]
    shown = " + ".join(names[:MAX_NAMES]) + (
        f" + {len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else ""
    )
    folders = list(dict.fromkeys(os.path.dirname(p) for p in paths))
    where = folders[0] if len(folders) == 1 else f"{folders[0]} and {len(folders) - 1} more folders"
    return f"{shown} — {where}"


class RecentFilesMenu(QMenu):
    def __init__(self, settings: QSettings, open_paths: Callable[[list[str]], None], parent: QWidget) -> None:
        super().__init__("Open &Recent", parent)
        self._settings = settings
        self._open = open_paths
        self.aboutToShow.connect(self.refresh)

    def refresh(self) -> None:
        self.clear()
        recent = st.recent_sets(self._settings)
        for i, paths in enumerate(recent, 1):
            act = self.addAction(f"&{i % 10}  {set_label(paths)}")
            act.setToolTip("\n".join(paths))
            act.setStatusTip("; ".join(paths))
            act.setEnabled(all(os.path.isfile(p) for p in paths))
            act.triggered.connect(lambda _=False, ps=list(paths): self._open(ps))
        if not recent:
            self.addAction("(none)").setEnabled(False)
        self.addSeparator()
        clear = self.addAction("&Clear Recent")
        clear.setEnabled(bool(recent))
        clear.triggered.connect(lambda: st.clear_recent_files(self._settings))
