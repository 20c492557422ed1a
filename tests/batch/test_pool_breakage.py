"""The local pool's bookkeeping when a worker dies, with the timing pinned down.

A real worker dying breaks its ``ProcessPoolExecutor``: every run in flight there fails with
``BrokenProcessPool``, and those failures reach the pool's loop in an order and grouping that
depend on scheduling. Here the executors are stand-ins that break exactly when told, so each
interleaving the loop must handle is tested on every run, not on the odd loaded machine."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pytest

from replayterm.batch import DIED, OK, LocalPool, RunConfig
from replayterm.batch.jobs import RunJob, RunOutcome


class ScriptedPool:
    """Runs nothing: resolves its futures once ``workers`` runs are in flight. A run whose mode
    is "exit" breaks the pool: with ``late`` False the failures of all its runs arrive together
    (the dying run's first); with ``late`` True the other runs finish, the pool is marked broken
    and the dying run fails only when the next ``submit`` finds the pool broken and raises."""

    def __init__(self, workers: int, late: bool) -> None:
        self.workers, self.late = workers, late
        self.open: list[tuple[Future[RunOutcome], RunJob]] = []
        self.broken = False
        self.ran: list[int] = []

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        if not args:  # the pool's check that its workers start at all: they do
            done: Future[Any] = Future()
            done.set_result(fn())
            return done
        return self._submit_run(*args)

    def _submit_run(self, job: RunJob, config: RunConfig) -> Future[RunOutcome]:
        if self.broken:
            self._fail_open()
            raise BrokenProcessPool("a worker died")
        future: Future[RunOutcome] = Future()
        future.set_running_or_notify_cancel()
        self.ran.append(job.run)
        self.open.append((future, job))
        if len(self.open) == self.workers:
            self._resolve()
        return future

    def _resolve(self) -> None:
        dying = [(f, j) for f, j in self.open if j.params["mode"] == "exit"]
        if not dying:
            for future, job in self.open:
                future.set_result(RunOutcome(job.run, OK))
            self.open = []
            return
        self.broken = True
        if self.late and self.workers > 1:
            for future, job in [(f, j) for f, j in self.open if (f, j) not in dying]:
                future.set_result(RunOutcome(job.run, OK))
            self.open = dying
            return
        self.open = dying + [(f, j) for f, j in self.open if (f, j) not in dying]
        self._fail_open()

    def _fail_open(self) -> None:
        for future, _ in self.open:
            future.set_exception(BrokenProcessPool("a worker died"))
        self.open = []

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        self._fail_open()


@pytest.mark.parametrize("late", [False, True], ids=["failures-arrive-together", "submit-finds-it-broken"])
def test_only_the_run_that_kills_its_worker_alone_is_recorded_as_died(
    monkeypatch: pytest.MonkeyPatch, late: bool
) -> None:
    pools: list[ScriptedPool] = []

    def scripted(self: LocalPool, workers: int) -> ScriptedPool:
        pools.append(ScriptedPool(workers, late))
        return pools[-1]

    monkeypatch.setattr(LocalPool, "_executor", scripted)
    modes = ["ok", "exit", "ok", "ok", "ok", "ok"]
    jobs = [RunJob(i, i, {"mode": m}, None, ()) for i, m in enumerate(modes)]
    seen: list[RunOutcome] = []
    LocalPool(2).run(jobs, RunConfig("unused"), lambda job, outcome: seen.append(outcome), lambda: False)
    status = {o.run: o.status for o in seen}
    assert sorted(status) == list(range(6)), "every run is reported exactly once"
    assert len(seen) == 6
    assert status == {0: OK, 1: DIED, 2: OK, 3: OK, 4: OK, 5: OK}
    # "died" only after the retry alone; the run that shared the broken pool was retried too
    alone = [run for p in pools if p.workers == 1 for run in p.ran]
    assert 1 in alone
    assert 0 in alone or late  # (with late, run 0 had finished before its pool broke)
