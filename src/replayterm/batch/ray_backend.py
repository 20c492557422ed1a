"""Runs on Ray: ``--ray local`` starts an embedded Ray runtime, ``--ray ADDRESS`` joins a cluster.

Each run is a Ray task (``max_retries=1``: Ray itself runs a task again, once, when the worker
process running it dies; a second death is recorded as ``died``). Ray schedules; nothing here
does.

Data travels once: with ``local`` the workers read the files (and their Arrow cache) at the same
paths as this process. On a cluster each input file is put in Ray's object store once
(``ray.put``); a task receives the object references and, on its node, writes a file to a
node-local folder named by the content hash only if it is not there yet — so each node fetches
each file once, converts it to its own cache once, and every later task on that node just maps
it. Ray is an optional dependency: ``pip install 'replayterm[ray]'``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from replayterm.batch.jobs import CANCELLED, DIED, RunConfig, RunJob, RunOutcome, execute

INSTALL_HINT = (
    "Ray is not installed. Install the optional extra with: pip install 'replayterm[ray]' "
    "(from a checkout: pip install -e '.[ray]'), or run without --ray to use local worker processes."
)

ResultFn = Callable[[RunJob, RunOutcome], None]
StopFn = Callable[[], bool]


class RayUnavailableError(RuntimeError):
    """Ray is not installed or cannot be started/joined; the message says what to do."""


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayUnavailableError(INSTALL_HINT) from None
    return ray


def node_copy(name: str, digest: str, fetch: Callable[[], bytes], root: Path | None = None) -> str:
    """The path of a node-local copy of a shipped file, written (atomically) on first use."""
    base = root or Path(
        os.environ.get("REPLAYTERM_RAY_FILES") or Path(tempfile.gettempdir()) / "replayterm-ray"
    )
    target = base / digest / name
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{name}.{os.getpid()}.tmp")
        tmp.write_bytes(fetch())
        os.replace(tmp, target)
    return str(target)


def _fetcher(ray: Any, ref: Any) -> Callable[[], bytes]:
    def fetch() -> bytes:
        return bytes(ray.get(ref))

    return fetch


def _run_task(job: RunJob, config: RunConfig, shipped: dict[str, tuple[str, str, Any]] | None) -> RunOutcome:
    if shipped:
        import ray

        local = []
        for path in job.files:
            name, digest, ref = shipped[path]
            local.append(node_copy(name, digest, _fetcher(ray, ref)))
        job = replace(job, files=tuple(local))
    return execute(job, config)


class RayBackend:
    """``run`` the jobs as Ray tasks, at most ``2 × CPUs`` in flight, outcomes as they arrive."""

    def __init__(self, address: str, workers: int | None = None, *, ship_files: bool | None = None) -> None:
        self.ray = import_ray()
        self.address = address
        self.local = address == "local"
        self.ship_files = (not self.local) if ship_files is None else ship_files
        self.shares_disk = self.local  # workers on this machine can map this process's cache
        self._started_here = False
        try:
            if not self.ray.is_initialized():
                if self.local:
                    self.ray.init(
                        num_cpus=workers,
                        include_dashboard=False,
                        log_to_driver=False,
                        configure_logging=False,
                    )
                else:
                    self.ray.init(address=address, log_to_driver=False, configure_logging=False)
                self._started_here = True
        except Exception as exc:  # ConnectionError, RuntimeError, … from Ray
            where = "start a local Ray runtime" if self.local else f"join the Ray cluster at {address}"
            raise RayUnavailableError(f"cannot {where}: {exc}") from exc
        self.cpus = max(1, int(self.ray.cluster_resources().get("CPU", 1)))
        self._task = self.ray.remote(max_retries=1, num_cpus=1)(_run_task)

    def describe(self) -> str:
        where = "an embedded local Ray runtime" if self.local else f"the Ray cluster at {self.address}"
        return f"{where} ({self.cpus} CPUs)"

    def _ship(self, jobs: Sequence[RunJob]) -> dict[str, tuple[str, str, Any]] | None:
        if not self.ship_files:
            return None
        shipped = {}
        for path in sorted({p for job in jobs for p in job.files}):
            data = Path(path).read_bytes()
            digest = hashlib.sha256(data).hexdigest()[:32]
            shipped[path] = (Path(path).name, digest, self.ray.put(data))
        return shipped

    def run(self, jobs: Sequence[RunJob], config: RunConfig, on_result: ResultFn, stop: StopFn) -> None:
        ray = self.ray
        shipped = self._ship(jobs)
        pending = list(reversed(jobs))
        flight: dict[Any, RunJob] = {}
        limit = 2 * self.cpus
        try:
            while pending or flight:
                if stop():
                    break
                while pending and len(flight) < limit:
                    job = pending.pop()
                    flight[self._task.remote(job, config, shipped)] = job
                done, _ = ray.wait(list(flight), num_returns=1, timeout=0.1)
                for ref in done:
                    job = flight.pop(ref)
                    try:
                        outcome = ray.get(ref)
                    except (ray.exceptions.WorkerCrashedError, ray.exceptions.RayTaskError) as exc:
                        if not isinstance(exc, ray.exceptions.WorkerCrashedError) and not _died(exc, ray):
                            outcome = RunOutcome(job.run, "error", error=str(exc))
                        else:
                            outcome = RunOutcome(
                                job.run,
                                DIED,
                                error=f"run {job.run}: the Ray worker running this combination died, "
                                f"also on the retry ({type(exc).__name__})",
                            )
                    except ray.exceptions.RayError as exc:  # node lost, object lost, …
                        outcome = RunOutcome(
                            job.run, DIED, error=f"run {job.run}: {type(exc).__name__}: {exc}"
                        )
                    if outcome.status != CANCELLED:
                        on_result(job, outcome)
        finally:
            for ref in flight:
                ray.cancel(ref, force=True)

    def close(self) -> None:
        if self._started_here and self.ray.is_initialized():
            self.ray.shutdown()


def _died(exc: Exception, ray: Any) -> bool:
    cause = getattr(exc, "cause", None)
    return isinstance(cause, ray.exceptions.WorkerCrashedError)
