"""``StopOnInterrupt``: the first Ctrl+C asks a headless run to stop cleanly (it checks ``stop()``
between steps and keeps what it wrote), a second one quits at once. Used by backtest and sweep."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any, Self


class StopOnInterrupt:
    def __init__(self, message: str) -> None:
        self.event = threading.Event()
        self.message = message
        self._previous: Any = None

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()
        print(f"\n{self.message} (Ctrl+C again to quit now)", file=sys.stderr, flush=True)
        self.on_first_interrupt()

    def on_first_interrupt(self) -> None:
        """Called once, from the signal handler, after the stop is asked for."""

    def __call__(self) -> bool:
        return self.event.is_set()
