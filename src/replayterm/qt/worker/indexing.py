"""Background indexing of a big open (``IndexJob``), one step per worker turn, and the seek that
waits for the part it needs. Qt-free: the worker's zero-interval timer calls ``step``."""

from __future__ import annotations

import time
from collections.abc import Callable

from replayterm.core.replay.indexing import IndexJob
from replayterm.core.session import ReplaySession

INDEX_STEP_ROWS = 1 << 19  # rows indexed per worker turn while a big open finishes (~10-30 ms)
INDEX_REPORT_S = 0.1

# fraction done, time up to which the replay is usable, the time a seek waits for (-1: none)
ProgressFn = Callable[[float, int, int], None]


class IndexScheduler:
    def __init__(self, progress: ProgressFn) -> None:
        self.progress = progress
        self.job: IndexJob | None = None
        self.pending_seek: int | None = None
        self._reported = 0.0

    @property
    def active(self) -> bool:
        return self.job is not None

    def start(self, job: IndexJob, session: ReplaySession) -> None:
        self.job = job
        self._reported = 0.0
        self.report(session, force=True)

    def step(self, session: ReplaySession) -> tuple[bool, int | None]:
        """Index the next rows; returns (done, the waiting seek that may run now)."""
        job = self.job
        assert job is not None
        try:
            done = job.step(INDEX_STEP_ROWS)
        except Exception:
            self.stop(session)  # the job removed its files; the indexed part stays usable
            self.progress(-1.0, session.cursor.ready_ts, -1)
            raise
        seek = self.pending_seek
        if seek is not None and (done or session.cursor.ready_ts >= seek):
            self.pending_seek = None
        else:
            seek = None
        if done:
            self.stop(session)
            self.progress(1.0, session.end_ts, -1)
        else:
            self.report(session)
        return done, seek

    def wait_for(self, ts: int, session: ReplaySession) -> bool:
        """A seek to ``ts``: True when it has to wait for indexing (it runs from ``step``)."""
        if self.job is None or ts <= session.cursor.ready_ts:
            self.pending_seek = None
            return False
        self.pending_seek = ts
        self.report(session, force=True)
        return True

    def cancel(self, session: ReplaySession) -> None:
        """Cancel drops the waiting seek (indexing goes on); with nothing waiting, it stops indexing."""
        if self.job is None:
            return
        if self.pending_seek is not None:
            self.pending_seek = None
            self.report(session, force=True)
            return
        self.stop(session, discard=True)
        self.progress(-1.0, session.cursor.ready_ts, -1)

    def report(self, session: ReplaySession, force: bool = False) -> None:
        now = time.perf_counter()
        if self.job is None or (not force and now - self._reported < INDEX_REPORT_S):
            return
        self._reported = now
        waiting = -1 if self.pending_seek is None else self.pending_seek
        self.progress(self.job.fraction, session.cursor.ready_ts, waiting)

    def stop(self, session: ReplaySession | None, discard: bool = False) -> None:
        if discard and self.job is not None:
            self.job.discard()
        self.job = None
        self.pending_seek = None
        if session is not None:
            session.index_job = None
