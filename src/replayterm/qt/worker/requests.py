"""Requests the GUI sends the worker, counted so that work supersedes (DESIGN §4.9).

Commands reach the worker through its queue, one after the other. A long one (a backward seek
that re-runs strategies from the origin, an open) would make every later command wait for it,
and a Cancel pressed meanwhile would only be seen once it runs. So the GUI thread also *counts*
what it sends, at once and from its own thread (``issue_seek``, ``issue_open``,
``issue_command``, ``cancel``):

- a running seek stops at its next checkpoint as soon as a newer seek or open is issued, and a
  queued seek whose successor is already issued is skipped (only the newest seek runs);
- a running open stops when a newer open is issued, and only the newest queued open runs;
- a Cancel is a counter, not a flag that the next command clears: each command remembers how
  many Cancels there had been when it was *sent*, so a Cancel pressed while it still waited in the
  queue stops it as soon as it starts. A Cancel that stopped nothing is seen by the background
  indexing (``idle_cancel``).

Commands sent without being counted (scripts, tests that call the slots through their own
signals) run as before, one after the other, and see the Cancels pressed from their start.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

CancelFn = Callable[[], bool]


class _Kind:
    """Seeks or opens: how many were sent and started, and the Cancels when the newest was sent."""

    __slots__ = ("issued", "mark", "taken")

    def __init__(self) -> None:
        self.issued = 0
        self.taken = 0
        self.mark = 0

    def issue(self, cancels: int) -> None:
        self.issued += 1
        self.mark = cancels

    def take(self) -> tuple[bool, bool]:
        """One starts: (was it counted, is it the newest sent)."""
        counted = self.taken < self.issued
        if counted:
            self.taken += 1
        return counted, self.taken >= self.issued

    @property
    def newer_issued(self) -> bool:
        return self.issued > self.taken


class Requests:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seeks = _Kind()
        self._opens = _Kind()
        self._marks: deque[int] = deque()  # other long commands, in the order sent
        self._cancels = 0
        self._idle_mark = 0

    # -- any thread (the GUI, as it sends) ------------------------------------------------------

    def issue_seek(self, *_args: object) -> None:
        with self._lock:
            self._seeks.issue(self._cancels)

    def issue_open(self, *_args: object) -> None:
        """An open also supersedes every seek before it (it starts the replay over)."""
        with self._lock:
            self._opens.issue(self._cancels)
            self._seeks.issue(self._cancels)

    def issue_command(self, *_args: object) -> None:
        """A strategy or execution command that may run long (stopped by Cancel only)."""
        with self._lock:
            self._marks.append(self._cancels)

    def cancel(self) -> None:
        with self._lock:
            self._cancels += 1

    # -- the worker thread: a command starts ---------------------------------------------------

    def begin_seek(self) -> CancelFn | None:
        """None: a newer seek or open was sent, skip this one. Else when the seek must stop."""
        with self._lock:
            counted, newest = self._seeks.take()
            mark = self._seeks.mark if counted else self._cancels
        if not newest:
            return None
        seeks = self._seeks
        return lambda: self._cancels > mark or seeks.newer_issued

    def begin_open(self) -> CancelFn | None:
        """None: a newer open was sent, skip this one. Else when the open must stop."""
        with self._lock:
            self._seeks.take()
            counted, newest = self._opens.take()
            mark = self._opens.mark if counted else self._cancels
        if not newest:
            return None
        opens = self._opens
        return lambda: self._cancels > mark or opens.newer_issued

    def begin_command(self) -> CancelFn:
        with self._lock:
            mark = self._marks.popleft() if self._marks else self._cancels
        return lambda: self._cancels > mark

    def restart_cancel(self) -> CancelFn:
        """For a seek the worker starts itself (Play at the end restarts from the beginning):
        a Cancel from now on, or a seek or open sent meanwhile, stops it."""
        mark, seeks = self._cancels, self._seeks
        return lambda: self._cancels > mark or seeks.newer_issued

    def cancels_consumed(self) -> None:
        """A Cancel stopped a command: the background indexing must not take it as its own."""
        with self._lock:
            self._idle_mark = self._cancels

    def idle_cancel(self) -> bool:
        """True once per Cancel that stopped no command (the indexing's cancel)."""
        with self._lock:
            if self._cancels <= self._idle_mark:
                return False
            self._idle_mark = self._cancels
            return True
