"""Runs on a pool of local worker processes (``concurrent.futures.ProcessPoolExecutor``).

- Workers are started with ``forkserver`` on Linux (a clean, thread-free parent to fork from,
  with the engine preloaded) and ``spawn`` elsewhere: numba and pyarrow keep threads, so a plain
  ``fork`` of a busy parent is not safe.
- At most one job per worker is in flight, so when a worker dies the suspects are few: each job
  that was in flight is run once more, alone, in a one-worker pool beside the main one. A job
  that kills its worker there too is recorded as ``died``; the others just finish.
- Stopping sets an event every worker's runs poll (``ReplaySession``'s cancel hook), so runs in
  flight end within milliseconds; their outcomes come back as ``cancelled``. Workers ignore
  SIGINT: Ctrl+C is the parent's to handle.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from replayterm.batch.jobs import CANCELLED, DIED, RunConfig, RunJob, RunOutcome, execute

ResultFn = Callable[[RunJob, RunOutcome], None]
StopFn = Callable[[], bool]
STOP_GRACE_S = 10.0  # how long runs in flight get to notice a stop before their workers are killed

_cancel_event: Any = None


def _init_worker(event: Any) -> None:
    global _cancel_event
    _cancel_event = event
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _cancelled() -> bool:
    return _cancel_event is not None and _cancel_event.is_set()


def _execute_in_worker(job: RunJob, config: RunConfig) -> RunOutcome:
    return execute(job, config, _cancelled)


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def start_method() -> str:
    return "forkserver" if sys.platform.startswith("linux") else "spawn"


class LocalPool:
    """``run`` the jobs on ``workers`` local processes, reporting each outcome as it arrives."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = max(1, int(workers or default_workers()))
        self._ctx = mp.get_context(start_method())
        if start_method() == "forkserver":
            self._ctx.set_forkserver_preload(["replayterm.batch.warm"])
        self._event = self._ctx.Event()

    def describe(self) -> str:
        return f"{self.workers} local worker process{'es' if self.workers != 1 else ''}"

    def _executor(self, workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=workers, mp_context=self._ctx, initializer=_init_worker, initargs=(self._event,)
        )

    def run(self, jobs: Sequence[RunJob], config: RunConfig, on_result: ResultFn, stop: StopFn) -> None:
        self._event.clear()
        pending: deque[RunJob] = deque(jobs)
        suspects: deque[RunJob] = deque()
        main = self._executor(self.workers)
        solo: ProcessPoolExecutor | None = None
        flight: dict[Future[RunOutcome], tuple[RunJob, ProcessPoolExecutor]] = {}
        stopping = False
        stopped_at = 0.0
        try:
            while flight or (not stopping and (pending or suspects)):
                if not stopping and stop():
                    stopping = True
                    stopped_at = time.monotonic()
                    self._event.set()
                if not stopping:
                    main_busy = sum(1 for _, ex in flight.values() if ex is main)
                    while pending and main_busy < self.workers:
                        job = pending.popleft()
                        flight[main.submit(_execute_in_worker, job, config)] = (job, main)
                        main_busy += 1
                    if suspects and not any(ex is solo for _, ex in flight.values()):
                        solo = solo or self._executor(1)
                        job = suspects.popleft()
                        flight[solo.submit(_execute_in_worker, job, config)] = (job, solo)
                if not flight:
                    continue
                done, _ = wait(list(flight), timeout=0.1, return_when=FIRST_COMPLETED)
                for future in done:
                    job, ex = flight.pop(future)
                    try:
                        outcome = future.result()
                    except BrokenProcessPool:
                        if ex is main:
                            main.shutdown(wait=False, cancel_futures=True)
                            main = self._executor(self.workers)
                            suspects.append(job)
                        else:
                            ex.shutdown(wait=False, cancel_futures=True)
                            solo = None
                            on_result(job, RunOutcome(job.run, DIED, error=_died_message(job)))
                        continue
                    if outcome.status == CANCELLED:
                        continue
                    on_result(job, outcome)
                # The other runs of a pool that broke are suspects too (unless they had finished).
                for future, (job, ex) in list(flight.items()):
                    if ex is main or ex is solo:
                        continue
                    flight.pop(future)
                    if future.done() and not future.cancelled() and future.exception() is None:
                        outcome = future.result()
                        if outcome.status != CANCELLED:
                            on_result(job, outcome)
                    else:
                        suspects.append(job)
                if stopping and flight and time.monotonic() - stopped_at > STOP_GRACE_S:
                    break  # a run that ignores the cancel flag (a stuck callback): its worker is killed
        finally:
            self._event.set()
            for executor in (main, solo):
                if executor is None:
                    continue
                if flight:
                    _kill_workers(executor)
                executor.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        pass


def _kill_workers(ex: ProcessPoolExecutor) -> None:
    terminate = getattr(ex, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
        return
    for process in list(getattr(ex, "_processes", {}).values()):
        process.terminate()


def _died_message(job: RunJob) -> str:
    return (
        f"run {job.run}: the worker process running this combination died (the strategy may call "
        "os._exit, crash the interpreter or run out of memory); it was tried twice"
    )
