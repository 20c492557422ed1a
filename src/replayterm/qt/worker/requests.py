"""Requests the GUI sends the worker, counted so that work supersedes (DESIGN §4.9).

Commands reach the worker through its queue, one after the other. A long one (a backward seek
that re-runs strategies from the origin, an open) would make every later command wait for it,
and a Cancel pressed meanwhile would only be seen once it runs. So the GUI thread also *counts*
what it sends, at once and from its own thread (``issue_seek``, ``issue_open``, ``cancel``):

- a running seek stops at its next checkpoint as soon as a newer seek or open is issued, and a
  queued seek whose successor is already issued is skipped (only the newest seek runs);
- a running open stops when a newer open is issued;
- a Cancel is a counter, not a flag that the next command clears: the work running or queued
  when it was pressed sees it, and the worker marks it seen only when the Cancel's own queued
  notice arrives (``cancel_seen``), after everything queued before it.

Commands sent without being counted (scripts, tests that emit the worker's slots directly) run as
before, one after the other: the counts only ever make work end sooner.
"""

from __future__ import annotations

import threading


class _Count:
    __slots__ = ("issued", "taken")

    def __init__(self) -> None:
        self.issued = 0
        self.taken = 0

    def take(self) -> bool:
        """A command of this kind starts: False when a newer one is already issued."""
        if self.taken < self.issued:
            self.taken += 1
        return self.taken >= self.issued

    @property
    def newer_issued(self) -> bool:
        return self.issued > self.taken


class Requests:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seeks = _Count()
        self._opens = _Count()
        self._cancels = 0
        self._cancels_seen = 0

    # -- any thread (the GUI, as it sends) ------------------------------------------------------

    def issue_seek(self, *_args: object) -> None:
        with self._lock:
            self._seeks.issued += 1

    def issue_open(self, *_args: object) -> None:
        """An open also supersedes every seek before it (it starts the replay over)."""
        with self._lock:
            self._opens.issued += 1
            self._seeks.issued += 1

    def cancel(self) -> int:
        with self._lock:
            self._cancels += 1
            return self._cancels

    # -- the worker thread ----------------------------------------------------------------------

    def take_seek(self) -> bool:
        """A seek starts: False when a newer seek or open was issued (skip this one)."""
        with self._lock:
            return self._seeks.take()

    def take_open(self) -> bool:
        """An open starts: False when a newer open was issued (skip this one)."""
        with self._lock:
            self._seeks.take()
            return self._opens.take()

    def seek_superseded(self) -> bool:
        return self.cancel_pending() or self._seeks.newer_issued

    def open_superseded(self) -> bool:
        return self.cancel_pending() or self._opens.newer_issued

    def cancel_pending(self) -> bool:
        return self._cancels > self._cancels_seen

    def cancel_seen(self, number: int) -> bool:
        """The Cancel numbered ``number`` reached the worker's queue; True if it was news."""
        with self._lock:
            if number <= self._cancels_seen:
                return False
            self._cancels_seen = number
            return True
