"""``StrategyWatchdog``: stop a strategy callback that does not return, without ever
interrupting the simulator itself.

Two triggers, both from outside the replay thread: ``abort_current()`` (the user pressed stop)
and an optional per-callback time budget checked by a small background thread. Either raises
``StrategyAborted`` inside the replay thread (``PyThreadState_SetAsyncExc``); the runner catches
it, disables that strategy with the reason, and the replay goes on.

Where the exception lands is the whole question. CPython delivers an asynchronous exception
at the replay thread's next check of its "eval breaker": if the thread was paused there for the
watchdog thread to run (the usual case), that is exactly the instruction the watchdog saw; if it
was inside a C call that released the GIL (``time.sleep``, a long numpy operation), it is in the
same Python frame right after the call returns. So the watchdog raises only while every frame
between the runner's dispatch frame and the innermost frame is the strategy's own code (or a
library it called) — never while the strategy is inside ``ctx.submit`` -> the simulated exchange
-> the account, nor after the callback has returned to the runner. Anywhere else the abort is
deferred: the watchdog thread retries every millisecond until the callback is back in its own
code (or has returned, which ends the request). The check and the injection run back to back
while this thread holds the GIL, with the garbage collector paused so nothing can run between.
``tests/core/test_watchdog_abort_points.py`` aborts at every line of a busy instant.

Which strategy is running is read from the replay thread's stack: the runner's dispatch
functions keep the context of the strategy they are calling in a local named ``ctx``, and the
frame they call is the callback.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
import threading
import time
from types import CodeType, FrameType
from typing import Any, NamedTuple

from replayterm.core.strategy.errors import StrategyAborted

DEFAULT_POLL_S = 0.05
RETRY_S = 0.001  # while an abort waits for the strategy to be back in its own code
# Code in this directory is the simulator (runner, context, exchange, account, book): an abort
# must never land in it.
_SIMULATOR_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def is_simulator_code(code: CodeType) -> bool:
    return code.co_filename.startswith(_SIMULATOR_DIR)


class Callback(NamedTuple):
    """A strategy callback running on the replay thread."""

    ctx: Any  # the context of the strategy it belongs to
    frame: FrameType  # the callback's own frame (called by the runner's dispatch frame)
    interruptible: bool  # every frame from it to the innermost one is the strategy's code


class _Request(NamedTuple):
    frame: FrameType  # the callback to stop; the request ends when it has returned
    kind: str
    message: str


class StrategyWatchdog:
    def __init__(self, budget_s: float | None = None, *, poll_s: float = DEFAULT_POLL_S) -> None:
        if budget_s is not None and not budget_s > 0:
            raise ValueError(f"callback time budget must be > 0 s, got {budget_s!r}")
        self.budget_s = budget_s
        self.poll_s = poll_s
        self.dispatch_codes: set[CodeType] = set()  # frames whose local ``ctx`` names the strategy
        self._lock = threading.Lock()
        self._thread_id: int | None = None
        self._pending: tuple[Any, str, str] | None = None  # raised, not yet taken by the runner
        self._request: _Request | None = None  # asked for, not yet raised
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    # -- replay thread ----------------------------------------------------------------------------
    def attach(self) -> None:
        """The calling thread runs strategy callbacks from now until ``detach``."""
        self._thread_id = threading.get_ident()
        if self.budget_s is not None:
            self._start_thread()

    def detach(self) -> None:
        with self._lock:
            self._thread_id = None
            self._request = None

    def take(self) -> tuple[Any, str, str] | None:
        """After catching ``StrategyAborted``: (ctx of the stopped strategy, kind, message)."""
        with self._lock:
            pending, self._pending = self._pending, None
        return pending

    # -- any thread -------------------------------------------------------------------------------
    def abort_current(self, message: str = "stopped by the user in {callback}") -> bool:
        """Stop the strategy callback running now. False when none is running. The abort lands
        as soon as the callback runs its own code (at once, unless it is inside the simulator)."""
        with self._lock:
            thread_id = self._thread_id
            found = None if thread_id is None else self.callback(sys._current_frames().get(thread_id))
            if found is None:
                return False
            self._request = _Request(found.frame, "aborted", message)
            del found
        if not self._try_request():
            self._start_thread()
            self._wake.set()
        return True

    def close(self) -> None:
        self._closed.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1.0)

    # -- the policy -------------------------------------------------------------------------------
    def callback(self, frame: FrameType | None) -> Callback | None:
        """The strategy callback running when the replay thread's innermost frame is ``frame``."""
        inner: FrameType | None = None
        interruptible = True
        while frame is not None:
            code = frame.f_code
            if code in self.dispatch_codes:
                if inner is None or is_simulator_code(inner.f_code):
                    return None  # the runner's own work, or a helper it called
                ctx = frame.f_locals.get("ctx")
                return None if ctx is None else Callback(ctx, inner, interruptible)
            if is_simulator_code(code):
                interruptible = False
            inner = frame
            frame = frame.f_back
        return None

    def target(self, frame: FrameType | None) -> tuple[Any, FrameType] | None:
        """(ctx, callback frame) when an abort raised at ``frame`` (the innermost frame of the
        replay thread) may land there; None when it must wait."""
        found = self.callback(frame)
        if found is None or not found.interruptible:
            return None
        return found.ctx, found.frame

    # -- internals --------------------------------------------------------------------------------
    def _start_thread(self) -> None:
        with self._lock:
            if self._thread is None and not self._closed.is_set():
                self._thread = threading.Thread(target=self._watch, name="strategy-watchdog", daemon=True)
                self._thread.start()

    def _try_request(self) -> bool:
        """Raise the requested abort if the callback is in its own code now. True when the
        request is settled (raised, or its callback has returned)."""
        with self._lock:
            request, thread_id = self._request, self._thread_id
            if request is None or thread_id is None:
                self._request = None
                return True
            gc_was_on = gc.isenabled()
            gc.disable()  # nothing may run between the check and the injection
            found = None
            try:
                found = self.callback(sys._current_frames().get(thread_id))
                if found is None or found.frame is not request.frame:
                    self._request = None  # the callback returned: nothing left to stop
                    return True
                if not found.interruptible:
                    return False
                message = request.message.format(callback=found.frame.f_code.co_name)
                self._pending = (found.ctx, request.kind, message)
                self._request = None
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(thread_id), ctypes.py_object(StrategyAborted)
                )
                return True
            finally:
                del found
                if gc_was_on:
                    gc.enable()

    def _watch(self) -> None:
        seen: FrameType | None = None
        since = 0.0
        while not self._closed.is_set():
            self._wake.wait(RETRY_S if self._request is not None else self.poll_s)
            self._wake.clear()
            if self._closed.is_set():
                break
            if self._request is not None:
                self._try_request()
                continue
            thread_id, budget = self._thread_id, self.budget_s
            found = None
            if thread_id is not None and budget is not None:
                found = self.callback(sys._current_frames().get(thread_id))
            if found is None:
                seen = None
                continue
            now = time.monotonic()
            if found.frame is not seen:
                seen, since = found.frame, now
            elif now - since >= budget:  # type: ignore[operator]
                with self._lock:
                    message = f"ran longer than its {budget:g} s time budget in {{callback}}"
                    self._request = _Request(found.frame, "timeout", message)
                self._try_request()
                since = now  # if the strategy swallows the abort, try again one budget later
            del found
