"""Uncaught exceptions (GUI thread or any other thread) are logged and shown, never silent.

The hooks only log and emit a signal: the dialog is opened on the GUI thread by whoever is
connected to ``ExceptionReporter.caught`` (a queued delivery when raised on another thread).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import QObject, Signal

log = logging.getLogger("replayterm")


class ExceptionReporter(QObject):
    caught = Signal(str, str, str)  # title, message, traceback

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._saved: tuple[object, object] | None = None

    def handle(
        self,
        exc_type: type[BaseException],
        exc: BaseException | None,
        tb: TracebackType | None,
        thread_name: str | None = None,
    ) -> None:
        where = f" in thread {thread_name}" if thread_name else ""
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("Unexpected error%s:\n%s", where, details.rstrip())
        with contextlib.suppress(RuntimeError):  # reporter already deleted (shutting down)
            self.caught.emit(f"Unexpected error{where}", f"{exc_type.__name__}: {exc}", details)

    def _sys_hook(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        self.handle(exc_type, exc, tb)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if issubclass(args.exc_type, SystemExit):
            return
        name = args.thread.name if args.thread is not None else "?"
        self.handle(args.exc_type, args.exc_value, args.exc_traceback, name)

    def install(self) -> Callable[[], None]:
        """Install both hooks; returns a function that restores the previous ones."""
        self._saved = (sys.excepthook, threading.excepthook)
        sys.excepthook = self._sys_hook
        threading.excepthook = self._thread_hook
        return self.uninstall

    def uninstall(self) -> None:
        if self._saved is not None:
            sys.excepthook, threading.excepthook = self._saved  # type: ignore[assignment]
            self._saved = None
