"""``StrategyWatchdog``: stop a strategy callback that does not return.

Two triggers, both from outside the replay thread: ``abort_current()`` (the user pressed stop)
and an optional per-callback time budget checked by a small background thread. Either raises
``StrategyAborted`` inside the replay thread (``PyThreadState_SetAsyncExc``); the runner catches
it, disables that strategy with the reason, and the replay goes on.

Which strategy is running is read from the replay thread's stack: the runner's dispatch
functions keep the context of the strategy they are calling in a local named ``ctx``, and the
frame they call is the callback. The exception is delivered at the callback's next bytecode
boundary: a callback blocked in one long C call (``time.sleep``, a huge numpy operation) is
stopped when that call returns.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from types import CodeType, FrameType
from typing import Any

from replayterm.core.strategy.errors import StrategyAborted

DEFAULT_POLL_S = 0.05


class StrategyWatchdog:
    def __init__(self, budget_s: float | None = None, *, poll_s: float = DEFAULT_POLL_S) -> None:
        if budget_s is not None and not budget_s > 0:
            raise ValueError(f"callback time budget must be > 0 s, got {budget_s!r}")
        self.budget_s = budget_s
        self.poll_s = poll_s
        self.dispatch_codes: set[CodeType] = set()  # frames whose local ``ctx`` names the strategy
        self.ignored_codes: set[CodeType] = set()  # runner helpers called from a dispatch frame
        self._lock = threading.Lock()
        self._thread_id: int | None = None
        self._pending: tuple[Any, str, str] | None = None
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    # -- replay thread ----------------------------------------------------------------------------
    def attach(self) -> None:
        """The calling thread runs strategy callbacks from now until ``detach``."""
        self._thread_id = threading.get_ident()
        if self.budget_s is not None and self._thread is None and not self._closed.is_set():
            self._thread = threading.Thread(target=self._watch, name="strategy-watchdog", daemon=True)
            self._thread.start()

    def detach(self) -> None:
        self._thread_id = None

    def take(self) -> tuple[Any, str, str] | None:
        """After catching ``StrategyAborted``: (ctx of the stopped strategy, kind, message)."""
        with self._lock:
            pending, self._pending = self._pending, None
        return pending

    # -- any thread -------------------------------------------------------------------------------
    def abort_current(self, message: str = "stopped by the user in {callback}") -> bool:
        """Stop the strategy callback running now. False when none is running."""
        return self._inject(None, "aborted", message)

    def close(self) -> None:
        self._closed.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1.0)

    # -- internals --------------------------------------------------------------------------------
    def _locate(self, thread_id: int) -> tuple[Any, FrameType] | None:
        """(ctx, callback frame) when the replay thread is inside a strategy callback."""
        frame: FrameType | None = sys._current_frames().get(thread_id)
        inner: FrameType | None = None
        while frame is not None:
            if frame.f_code in self.dispatch_codes:
                if inner is None or inner.f_code in self.ignored_codes:
                    return None
                ctx = frame.f_locals.get("ctx")
                return None if ctx is None else (ctx, inner)
            inner = frame
            frame = frame.f_back
        return None

    def _inject(self, expect: FrameType | None, kind: str, message: str) -> bool:
        with self._lock:
            thread_id = self._thread_id
            if thread_id is None:
                return False
            found = self._locate(thread_id)
            if found is None or (expect is not None and found[1] is not expect):
                return False
            ctx, frame = found
            self._pending = (ctx, kind, message.format(callback=frame.f_code.co_name))
            hit = ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(thread_id), ctypes.py_object(StrategyAborted)
            )
            return hit == 1

    def _watch(self) -> None:
        seen: FrameType | None = None
        since = 0.0
        while not self._closed.wait(self.poll_s):
            thread_id, budget = self._thread_id, self.budget_s
            found = None if thread_id is None or budget is None else self._locate(thread_id)
            if found is None:
                seen = None
                continue
            frame = found[1]
            now = time.monotonic()
            if frame is not seen:
                seen, since = frame, now
            elif now - since >= budget:  # type: ignore[operator]
                self._inject(
                    frame, "timeout", f"ran longer than its {budget:g} s time budget in {{callback}}"
                )
                since = now  # if the strategy swallows the abort, try again one budget later
            del found, frame
