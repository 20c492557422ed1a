"""One run of a sweep: what it is (``RunJob``), what every run shares (``RunConfig``), and the
function a worker process calls to do it (``execute``).

``execute`` does what ``replayterm backtest`` does for one strategy — open the files through
the Arrow cache, build a ``ReplaySession`` with the same settings, run to the end — and returns
the strategy's summary metrics, so a sweep row equals the ``summary.json`` of the same backtest.
It never raises for a bad run: the error becomes the outcome's status and message.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from replayterm import __version__
from replayterm.core.data import Cancelled, DataError, format_time, open_sources
from replayterm.core.data.cache import ENV_DIR as CACHE_ENV
from replayterm.core.session import ReplaySession, SessionSettings
from replayterm.core.session.export import write_results
from replayterm.core.strategy import StrategyLoadError

# Statuses of a run. "cancelled" runs are never written as rows.
OK = "ok"  # ran to the end of its data
FAILED = "failed"  # the strategy raised during the run: metrics up to that moment, error says where
ERROR = "error"  # the run could not start (data, parameters the strategy refuses, …)
DIED = "died"  # the worker process running it died, also on the one retry
CANCELLED = "cancelled"


@dataclass(frozen=True)
class RunJob:
    """One combination on one day (or on all the data). ``run`` numbers rows in plan order."""

    run: int
    combo: int
    params: dict[str, Any]  # every parameter given (fixed and swept), typed
    day: str | None
    files: tuple[str, ...]
    from_ts: int | None = None
    to_ts: int | None = None


@dataclass(frozen=True)
class RunConfig:
    """What every run of one sweep shares."""

    strategy: str
    settings: SessionSettings = field(default_factory=SessionSettings)
    use_cache: bool = True
    keep_runs: bool = False
    # The cache folder the sweep's own process opened the files into: workers on this machine
    # map the same entries instead of building their own (None: the worker's default).
    cache_dir: str | None = None


@dataclass
class RunOutcome:
    run: int
    status: str
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    events: int = 0
    elapsed_s: float = 0.0
    cpu_s: float = 0.0  # CPU time of the worker's thread during the run (how much core it got)
    files: dict[str, bytes] = field(default_factory=dict)  # the backtest files, with keep_runs


CancelFn = Callable[[], bool]


def execute(job: RunJob, config: RunConfig, cancel: CancelFn | None = None) -> RunOutcome:
    """Run one job in this process; every failure is reported in the outcome."""
    started, cpu = time.perf_counter(), time.thread_time()
    try:
        outcome = _run(job, config, cancel)
    except Cancelled:
        outcome = RunOutcome(job.run, CANCELLED)
    except (DataError, StrategyLoadError, ValueError, TypeError) as exc:
        outcome = RunOutcome(job.run, ERROR, error=str(exc))
    except Exception as exc:  # a strategy's constructor, anything unexpected: the sweep goes on
        tb = "".join(traceback.format_exception(exc, limit=-4))
        outcome = RunOutcome(job.run, ERROR, error=f"{type(exc).__name__}: {exc}\n{tb}")
    outcome.elapsed_s = time.perf_counter() - started
    outcome.cpu_s = time.thread_time() - cpu
    return outcome


def _run(job: RunJob, config: RunConfig, cancel: CancelFn | None) -> RunOutcome:
    if cancel is not None and cancel():
        raise Cancelled()
    if config.cache_dir is not None and os.environ.get(CACHE_ENV) != config.cache_dir:
        os.environ[CACHE_ENV] = config.cache_dir  # a worker process of this sweep: the shared cache
    sources = open_sources(list(job.files), to_ts=job.to_ts, use_cache=config.use_cache, cancel=cancel)
    session = ReplaySession(sources, config.settings, start_at=job.from_ts, cancel=cancel)
    try:
        if session.origin >= session.cursor.n_events:
            return RunOutcome(
                job.run, ERROR, error="no book or trade rows in this run's files and time range"
            )
        handle = session.add_strategy(config.strategy, dict(job.params))
        events = session.run_to_end(cancel=cancel)
        summary = session.summary(handle)
        status, error = OK, None
        if summary["error"] is not None:
            e = summary["error"]
            status = FAILED
            error = f"{e['callback']} at {format_time(e['ts'])}: {e['message']}\n{e['traceback']}"
        files = _backtest_files(session, handle, job, config, events) if config.keep_runs else {}
        return RunOutcome(job.run, status, error, dict(summary["metrics"]), events, files=files)
    finally:
        session.close()


def _backtest_files(
    session: ReplaySession, handle: Any, job: RunJob, config: RunConfig, events: int
) -> dict[str, bytes]:
    """The files ``replayterm backtest`` would write for this run, as bytes (the parent writes
    them, so this works the same when the worker is on another machine)."""
    run_info = {
        "version": __version__,
        "files": list(job.files),
        "day": job.day,
        "from": None if job.from_ts is None else format_time(job.from_ts),
        "to": None if job.to_ts is None else format_time(job.to_ts),
        "start_us": session.start_ts,
        "end_us": session.end_ts,
        "events": events,
        "instruments": [inst.name for inst in session.instruments],
        "queue": str(config.settings.queue),
        "initial_cash": config.settings.initial_cash,
        "sample_interval_us": config.settings.sample_interval_us,
        "warnings": session.data_notes() + session.warnings,
    }
    with tempfile.TemporaryDirectory(prefix="replayterm-run-") as tmp:
        write_results(session, [handle], Path(tmp), json.loads(json.dumps(run_info, default=str)))
        return {p.name: p.read_bytes() for p in sorted(Path(tmp).iterdir())}
