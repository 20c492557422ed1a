"""``StrategyStore``: the GUI's picture of the loaded strategies (one ``StrategyInfo`` each).

Which strategies exist comes only from the worker's ``strategies_changed``; frames refresh the
numbers of strategies the store already knows. A frame rendered late may still carry a strategy
that was just unloaded: it is ignored, and views ask ``knows(id)`` before taking its records.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor

from replayterm.core.frames import Frame
from replayterm.core.session.views import StrategyInfo
from replayterm.core.strategy import StrategyStatus


class StrategyStore(QObject):
    structure_changed = Signal()  # strategies added/removed, or a name/status/params changed
    numbers_changed = Signal()  # position, PnL, counters of known strategies
    removed = Signal(list)  # ids no longer loaded
    failed = Signal(object)  # StrategyInfo of a strategy that has just failed

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._infos: dict[int, StrategyInfo] = {}
        self._colours: dict[int, QColor] = {}
        self._noted_failures: dict[int, tuple[int, object]] = {}

    # ---- reading -----------------------------------------------------------------------------
    def ids(self) -> list[int]:
        return list(self._infos)

    def infos(self) -> list[StrategyInfo]:
        return list(self._infos.values())

    def info(self, sid: int) -> StrategyInfo | None:
        return self._infos.get(sid)

    def knows(self, sid: int) -> bool:
        return sid in self._infos

    def colour(self, sid: int) -> QColor:
        return self._colours.get(sid) or QColor("#9aa3b2")

    def name(self, sid: int) -> str:
        info = self._infos.get(sid)
        return info.name if info is not None else f"#{sid}"

    def __len__(self) -> int:
        return len(self._infos)

    # ---- updates -----------------------------------------------------------------------------
    def set_infos(self, infos: list[StrategyInfo]) -> None:
        """The worker's full list (after load, unload, enable, reload, new parameters, open)."""
        new = {i.handle.id: i for i in infos}
        gone = [sid for sid in self._infos if sid not in new]
        self._infos = new
        self._colours = {sid: QColor(i.colour) for sid, i in new.items()}
        for sid in gone:
            self._noted_failures.pop(sid, None)
        if gone:
            self.removed.emit(gone)
        self.structure_changed.emit()
        self._note_failures(infos)

    def apply_frame(self, frame: Frame) -> None:
        changed_shape = False
        updated = []
        for sf in frame.strategies:
            info: StrategyInfo = sf.info
            sid = info.handle.id
            old = self._infos.get(sid)
            if old is None:
                continue
            if (old.status, old.name, old.params, old.run_id, old.class_name) != (
                info.status,
                info.name,
                info.params,
                info.run_id,
                info.class_name,
            ):
                changed_shape = True
            self._infos[sid] = info
            updated.append(info)
        if not updated:
            return
        if changed_shape:
            self.structure_changed.emit()
        self.numbers_changed.emit()
        self._note_failures(updated)

    def _note_failures(self, infos: list[StrategyInfo]) -> None:
        for info in infos:
            if info.status is not StrategyStatus.FAILED or info.error is None:
                continue
            key = (info.run_id, info.error)
            sid = info.handle.id
            if self._noted_failures.get(sid) != key:
                self._noted_failures[sid] = key
                self.failed.emit(info)
