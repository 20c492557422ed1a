"""Hot reload: watch the ``.py`` file of each loaded strategy and ask for a reload when it is saved.

Saves come in bursts (write, truncate, rename) and many editors replace the file instead of
writing it, which makes ``QFileSystemWatcher`` forget the path: each change restarts a short
debounce timer, and when it fires the path is watched again before the reload is requested.
"""

from __future__ import annotations

import logging
import os

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from replayterm.core.session.views import StrategyInfo

log = logging.getLogger(__name__)

DEBOUNCE_MS = 300
MISSING_RETRIES = 10  # the file may be absent for a moment while an editor replaces it


def spec_path(spec: str | None) -> str | None:
    """The file of a ``path.py`` or ``path.py:Class`` spec (None for a registered name)."""
    if not spec:
        return None
    if ".py:" in spec:
        path = spec.rpartition(".py:")[0] + ".py"
    elif spec.endswith(".py"):
        path = spec
    else:
        return None
    return os.path.abspath(path)


class StrategyFileWatcher(QObject):
    reload_requested = Signal(int, str)  # strategy id, path that changed

    def __init__(self, parent: QObject | None = None, debounce_ms: int = DEBOUNCE_MS) -> None:
        super().__init__(parent)
        self.enabled = True
        self._debounce_ms = debounce_ms
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._on_changed)
        self._ids: dict[str, list[int]] = {}
        self._timers: dict[str, QTimer] = {}
        self._misses: dict[str, int] = {}

    def paths(self) -> list[str]:
        return list(self._ids)

    def sync(self, infos: list[StrategyInfo]) -> None:
        """Watch exactly the files of ``infos``."""
        wanted: dict[str, list[int]] = {}
        for info in infos:
            path = spec_path(info.spec)
            if path is not None:
                wanted.setdefault(path, []).append(info.handle.id)
        for path in set(self._ids) - set(wanted):
            self._watcher.removePath(path)
            timer = self._timers.pop(path, None)
            if timer is not None:
                timer.stop()
                timer.deleteLater()
        self._ids = wanted
        for path in wanted:
            self._watch(path)

    def _watch(self, path: str) -> bool:
        if path in self._watcher.files():
            return True
        return os.path.isfile(path) and self._watcher.addPath(path)

    def _on_changed(self, path: str) -> None:
        if path not in self._ids:
            return
        timer = self._timers.get(path)
        if timer is None:
            timer = self._timers[path] = QTimer(self, singleShot=True, interval=self._debounce_ms)
            timer.timeout.connect(lambda p=path: self._fire(p))
        timer.start()

    def _fire(self, path: str) -> None:
        if path not in self._ids:
            return
        if not self._watch(path):
            misses = self._misses.get(path, 0) + 1
            self._misses[path] = misses
            if misses <= MISSING_RETRIES:
                self._timers[path].start()
            else:
                log.warning("%s is gone: no more hot reloads for it until it is loaded again", path)
            return
        self._misses.pop(path, None)
        if not self.enabled:
            return
        for sid in self._ids[path]:
            self.reload_requested.emit(sid, path)
