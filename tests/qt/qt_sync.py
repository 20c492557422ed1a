"""Wait for the replay worker without sleeping: a token through its queue, and its echo."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from pytestqt.qtbot import QtBot

from replayterm.qt.frame_sink import FrameSink
from replayterm.qt.worker import ReplayWorker


class _Sender(QObject):
    ping = Signal(object)


def sync_worker(qtbot: QtBot, worker: ReplayWorker, sink: FrameSink | None = None) -> None:
    """Return once the worker has done everything queued before now; its frames and signals have
    then reached this thread too (queued before the echo). With ``sink``, render what is pending."""
    sender = _Sender()
    sender.ping.connect(worker.ping)
    token = object()
    with qtbot.waitSignal(worker.pong, timeout=120_000, check_params_cb=lambda t: t is token):
        sender.ping.emit(token)
    if sink is not None:
        sink.flush()
