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
- The fork server is started without the current directory on its ``sys.path`` (a folder named
  ``replayterm`` there, a checkout say, would otherwise shadow the installed package in every
  worker), and a pool whose workers cannot start at all raises :class:`WorkerStartError` before
  any run: that is the workers' fault, never the strategy's.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.forkserver
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from replayterm.batch.jobs import CANCELLED, DIED, RunConfig, RunJob, RunOutcome, execute

ResultFn = Callable[[RunJob, RunOutcome], None]
StopFn = Callable[[], bool]
STOP_GRACE_S = 10.0  # how long runs in flight get to notice a stop before their workers are killed

# The stop flag every worker's runs poll: one shared byte, read and written without a lock. A
# multiprocessing Event takes a lock on every poll, and a worker killed while holding it (the
# executor terminates the other workers of a pool when one dies) would block every later poll.
_cancel_flag: Any = None


class WorkerStartError(RuntimeError):
    """The worker processes die before they can run anything (no run, no strategy involved)."""


def _init_worker(flag: Any) -> None:
    global _cancel_flag
    _cancel_flag = flag
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _cancelled() -> bool:
    return _cancel_flag is not None and bool(_cancel_flag.value)


@dataclass(frozen=True)
class _Flight:
    job: RunJob
    pool: ProcessPoolExecutor
    alone: bool  # a retry on the one-worker pool: if that worker dies, this run killed it


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
            _start_forkserver_without_cwd()
        self._cancel = self._ctx.RawValue("b", 0)

    def describe(self) -> str:
        return f"{self.workers} local worker process{'es' if self.workers != 1 else ''}"

    def _executor(self, workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=workers, mp_context=self._ctx, initializer=_init_worker, initargs=(self._cancel,)
        )

    def run(self, jobs: Sequence[RunJob], config: RunConfig, on_result: ResultFn, stop: StopFn) -> None:
        self._cancel.value = 0
        pending: deque[RunJob] = deque(jobs)
        suspects: deque[RunJob] = deque()
        main = self._executor(self.workers)
        if jobs:
            _check_workers_start(main)
        solo: ProcessPoolExecutor | None = None
        # Each run in flight with the pool it runs on and whether it runs there alone (a retry).
        # Whether a broken run is a suspect or died is decided by that flag, never by comparing
        # its pool with ``main``/``solo``: those are replaced as pools break, and the runs of a
        # replaced main pool can come back later, several in one ``wait``.
        flight: dict[Future[RunOutcome], _Flight] = {}
        stopping = False
        stopped_at = 0.0
        try:
            while flight or (not stopping and (pending or suspects)):
                if not stopping and stop():
                    stopping = True
                    stopped_at = time.monotonic()
                    self._cancel.value = 1
                if not stopping:
                    main_busy = sum(1 for f in flight.values() if f.pool is main)
                    while pending and main_busy < self.workers:
                        job = pending.popleft()
                        try:
                            future = main.submit(_execute_in_worker, job, config)
                        except BrokenProcessPool:  # a worker died since the last wait: never ran
                            pending.appendleft(job)
                            main = self._replace(main, self.workers)
                            main_busy = 0
                            continue
                        flight[future] = _Flight(job, main, alone=False)
                        main_busy += 1
                    if suspects and not any(f.alone for f in flight.values()):
                        solo = solo or self._executor(1)
                        job = suspects.popleft()
                        try:
                            flight[solo.submit(_execute_in_worker, job, config)] = _Flight(
                                job, solo, alone=True
                            )
                        except BrokenProcessPool:  # broke while idle, not this job's doing
                            suspects.appendleft(job)
                            solo.shutdown(wait=False, cancel_futures=True)
                            solo = None
                if not flight:
                    continue
                done, _ = wait(list(flight), timeout=0.1, return_when=FIRST_COMPLETED)
                for future in done:
                    run = flight.pop(future)
                    try:
                        outcome = future.result()
                    except (BrokenProcessPool, CancelledError):
                        if run.alone:  # it killed the worker it had to itself: it dies
                            run.pool.shutdown(wait=False, cancel_futures=True)
                            if run.pool is solo:
                                solo = None
                            on_result(run.job, RunOutcome(run.job.run, DIED, error=_died_message(run.job)))
                        else:  # any run of a broken shared pool may be innocent: retried alone
                            if run.pool is main:
                                main = self._replace(main, self.workers)
                            suspects.append(run.job)
                        continue
                    if outcome.status == CANCELLED:
                        continue
                    on_result(run.job, outcome)
                if stopping and flight and time.monotonic() - stopped_at > STOP_GRACE_S:
                    break  # a run that ignores the cancel flag (a stuck callback): its worker is killed
        finally:
            self._cancel.value = 1
            for executor in {id(ex): ex for ex in (main, solo, *(f.pool for f in flight.values()))}.values():
                if executor is None:
                    continue
                if flight:
                    _kill_workers(executor)
                executor.shutdown(wait=True, cancel_futures=True)

    def _replace(self, broken: ProcessPoolExecutor, workers: int) -> ProcessPoolExecutor:
        """Shut a broken pool down (without waiting) and return a fresh one."""
        broken.shutdown(wait=False, cancel_futures=True)
        return self._executor(workers)

    def close(self) -> None:
        pass


def _start_forkserver_without_cwd() -> None:
    """The fork server runs ``python -c …``, which puts the current directory first on its
    ``sys.path``, and Python 3.11/3.12 ignore the parent's path handed to it: ``PYTHONSAFEPATH``
    keeps the directory off. The server starts once per process; later pools reuse it."""
    previous = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        if previous is None:
            os.environ.pop("PYTHONSAFEPATH", None)
        else:
            os.environ["PYTHONSAFEPATH"] = previous


def _check_workers_start(pool: ProcessPoolExecutor) -> None:
    try:
        pool.submit(int).result()
    except BrokenProcessPool:
        pool.shutdown(wait=False, cancel_futures=True)
        raise WorkerStartError(
            "the sweep's worker processes could not start: a fresh worker ended before running "
            f"anything, so no run was tried (its own error is printed above; python {sys.executable}, "
            f"folder {os.getcwd()})"
        ) from None


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
