"""The replay worker's thread: start it, and stop it without ever blocking on a hung callback."""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QMetaObject, Qt, QThread

from replayterm.qt.worker import ReplayWorker

log = logging.getLogger(__name__)


def start_worker(worker: ReplayWorker) -> QThread:
    """Move ``worker`` to a new thread and start it (its timers are created there)."""
    thread = QThread()
    thread.setObjectName("replay-worker")
    worker.moveToThread(thread)
    thread.started.connect(worker.start)
    thread.start()
    return thread


def stop_worker(worker: ReplayWorker, thread: QThread, timeout_ms: int = 30_000) -> bool:
    """Close = stop the worker, ``quit()``, ``wait()``; True when the thread ended.

    See docs/architecture.md, "Threading".

    The worker's ``shutdown`` and the thread's ``quit`` are queued to the worker's thread, never
    called blocking: a strategy callback that does not return would otherwise hang the caller.
    While waiting, such a callback is aborted and long runs are cancelled.
    """
    if not thread.isRunning():
        return True
    worker.request_cancel()
    # ``shutdown`` ends the thread's event loop when it is done (no helper timer object that
    # would belong to the worker's thread and be freed from this one).
    QMetaObject.invokeMethod(worker, "shutdown", Qt.ConnectionType.QueuedConnection)
    deadline = time.monotonic() + timeout_ms / 1000
    while not thread.wait(50):
        if worker.request_abort_callback():
            log.warning("Stopped a strategy callback that was still running at exit")
        worker.request_cancel()
        if time.monotonic() > deadline:
            return False
    return True
