"""Parameter sweeps: a 16-run sweep (4 combinations × 4 days) on 1 and 2 local worker processes
and on an embedded local Ray runtime.

Data: four generated days of ``REPLAYTERM_BENCH_SWEEP_ROWS`` L2 rows each (default 1M) plus
their trades, opened once (the Arrow cache is warm before timing, as ``plan_sweep`` makes it).
Each figure is the median wall time of a whole ``run_sweep`` — worker start-up included — and
every backend must give the same rows. Ray's start-up (``ray.init``) is timed apart: a cluster
runs already.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._util import BENCH_DATA, REPEATS, result
from replayterm.batch import LocalPool, RunConfig, SweepPlan, plan_sweep, run_sweep
from replayterm.batch.sweep import Backend
from replayterm.core.execution import ConstantLatency
from replayterm.core.session import SessionSettings

ROWS = int(os.environ.get("REPLAYTERM_BENCH_SWEEP_ROWS", "1000000"))
DAYS = ("2024-02-05", "2024-02-06", "2024-02-07", "2024-02-08")
GRID = [("requote_ms", ["100", "250"]), ("size", ["0.01", "0.02"])]
RUNS = max(1, min(REPEATS, 3))


def day_files(rows: int) -> list[str]:
    from replayterm.core.data.synthetic import generate_files

    out = BENCH_DATA / f"sweep_{rows}"
    marker = out / ".complete"
    if not marker.exists():
        out.mkdir(parents=True, exist_ok=True)
        for i, day in enumerate(DAYS):
            generate_files(out, seed=21 + i, start=f"{day}T00:00:00Z", target_book_rows=rows)
        marker.touch()
    return [str(p) for p in sorted(out.glob("*incremental_book_L2*"))] + [
        str(p) for p in sorted(out.glob("*trades*"))
    ]


def timed(
    plan: SweepPlan, config: RunConfig, backend: Backend, out: Path
) -> tuple[float, list[dict[str, Any]]]:
    times = []
    rows: list[dict[str, Any]] = []
    for _ in range(RUNS):
        start = time.perf_counter()
        rows = run_sweep(plan, config, backend, out).rows
        times.append(time.perf_counter() - start)
    return statistics.median(times), rows


def run() -> Iterator[dict[str, Any]]:
    files = day_files(ROWS)
    plan = plan_sweep(files, "market_maker", GRID, {"max_position": "0.05"}, per_day=True)
    config = RunConfig("market_maker", SessionSettings(latency=ConstantLatency(2000, 500)))
    out = BENCH_DATA / "sweep_out"
    load = os.getloadavg()[0]
    common = {"runs": len(plan.jobs), "rows_per_day": ROWS, "repeats": RUNS, "cores": os.cpu_count()}
    one, rows1 = timed(plan, config, LocalPool(1), out / "pool1")
    yield result("sweep_pool_1_worker", one, "s", **common, load_1min=round(load, 2))
    two, rows2 = timed(plan, config, LocalPool(2), out / "pool2")
    if rows2 != rows1:
        raise AssertionError("2 workers gave other rows than 1 worker")
    yield result("sweep_pool_2_workers", two, "s", **common, load_1min=round(os.getloadavg()[0], 2))
    yield result("sweep_pool_speedup_2_vs_1", one / two, "x", target=">= 1.7")
    try:
        from replayterm.batch.ray_backend import RayBackend
    except ImportError:
        return
    try:
        start = time.perf_counter()
        ray = RayBackend("local", 2)
        yield result("sweep_ray_init", time.perf_counter() - start, "s")
    except RuntimeError:  # Ray not installed
        return
    try:
        on_ray, rows_ray = timed(plan, config, ray, out / "ray")
    finally:
        ray.close()
    if rows_ray != rows1:
        raise AssertionError("Ray gave other rows than the process pool")
    yield result("sweep_ray_local_2_cpus", on_ray, "s", **common, load_1min=round(os.getloadavg()[0], 2))
    yield result("sweep_ray_vs_pool_2", on_ray / two, "x", target="<= 1.25")
