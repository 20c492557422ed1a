"""The order-flow thread: opens the flow tables and answers view requests off the GUI thread.

Requests are coalesced: whatever arrives while one is being built is replaced by the newest, so
a burst of frames or a fast zoom costs one build (work supersedes, docs/architecture.md).
"""

from __future__ import annotations

import logging
import traceback

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from replayterm.core.flow.opening import open_file_flows
from replayterm.core.flow.view import FlowRequest, FlowViewBuilder

log = logging.getLogger(__name__)


class FlowService(QObject):
    ready = Signal(object)  # FlowFrame
    opened = Signal(str)  # instrument name ("" when the files hold no trades)
    failed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self._builder: FlowViewBuilder | None = None
        self._pending: dict[str, FlowRequest] = {}
        self._timer: QTimer | None = None
        self._generation = 0

    @Slot()
    def start(self) -> None:
        self._timer = QTimer(self, singleShot=True, interval=0)
        self._timer.timeout.connect(self._build)

    @Slot(list, str)
    def open(self, paths: list[str], name: str) -> None:
        self._builder = None
        try:
            flows = open_file_flows(paths)
        except Exception as exc:  # the replay goes on without order flow; say why
            log.warning("order flow unavailable: %s", exc)
            self.failed.emit(str(exc))
            self.opened.emit("")
            return
        if not flows:
            self.opened.emit("")
            return
        chosen = name if name in flows else next(iter(flows))
        self._builder = FlowViewBuilder(flows[chosen])
        self.opened.emit(chosen)

    @Slot(object)
    def request(self, req: FlowRequest) -> None:
        self._pending[req.client] = req
        if self._timer is not None and not self._timer.isActive():
            self._timer.start()

    def _build(self) -> None:
        pending, self._pending = self._pending, {}
        if self._builder is None:
            return
        for req in pending.values():
            try:
                frame = self._builder.build(req)
            except Exception as exc:
                self.failed.emit(f"{exc}\n{traceback.format_exc(limit=4)}")
                continue
            self.ready.emit(frame)


def start_service(service: FlowService) -> QThread:
    thread = QThread()
    thread.setObjectName("order-flow")
    service.moveToThread(thread)
    thread.started.connect(service.start)
    thread.start()
    return thread


def stop_service(thread: QThread) -> None:
    if thread.isRunning():
        thread.quit()
        thread.wait(10_000)
