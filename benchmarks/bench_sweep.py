"""Parameter sweeps: a 16-run sweep (4 combinations × 4 days) on 1 and 2 local worker processes
and on an embedded local Ray runtime.

Data: four generated days of ``REPLAYTERM_BENCH_SWEEP_ROWS`` L2 rows each (default 1M) plus
their trades, opened once (the Arrow cache is warm before timing, as ``plan_sweep`` makes it).
Each figure is the median wall time of a whole ``run_sweep`` — worker start-up included — and
every backend must give the same rows. Backends that are compared run in turns (one sweep each
per round) so that a change of machine load hits both alike; ratios are medians of the
per-round ratios. Ray's start-up (``ray.init``) is timed apart: a cluster runs already.
``core_share_per_run`` is the CPU time the runs got over their wall time: near 1 on an idle
machine, lower when other processes take the cores (the speedup can then not show).
"""

from __future__ import annotations

import math
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


SHARES: dict[str, list[float]] = {}


def once(
    plan: SweepPlan, config: RunConfig, backend: Backend, out: Path
) -> tuple[float, list[dict[str, Any]]]:
    start = time.perf_counter()
    result = run_sweep(plan, config, backend, out)
    took = time.perf_counter() - start
    # How much of a core each run got: below 1 means other processes took the CPU.
    SHARES.setdefault(out.name, []).append(result.run_cpu_s / max(result.run_wall_s, 1e-9))
    return took, result.rows


def interleaved(
    plan: SweepPlan, config: RunConfig, backends: dict[str, Backend], out: Path
) -> dict[str, list[float]]:
    """Each backend once per round, RUNS rounds: a change of machine load hits all of them alike.
    Every backend must give the rows of the first."""
    times: dict[str, list[float]] = {name: [] for name in backends}
    reference: list[dict[str, Any]] | None = None
    for _ in range(RUNS):
        for name, backend in backends.items():
            took, rows = once(plan, config, backend, out / name)
            if reference is None:
                reference = rows
            elif rows != reference:
                raise AssertionError(f"{name} gave other rows than {next(iter(backends))}")
            times[name].append(took)
    return times


def share(name: str) -> float:
    return round(statistics.median(SHARES.get(name, [math.nan])), 2)


def ratio(a: list[float], b: list[float]) -> float:
    """Median of the per-round ratios a/b."""
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


def run() -> Iterator[dict[str, Any]]:
    files = day_files(ROWS)
    plan = plan_sweep(files, "market_maker", GRID, {"max_position": "0.05"}, per_day=True)
    config = RunConfig("market_maker", SessionSettings(latency=ConstantLatency(2000, 500)))
    out = BENCH_DATA / "sweep_out"
    common = {"runs": len(plan.jobs), "rows_per_day": ROWS, "rounds": RUNS, "cores": os.cpu_count()}
    load = round(os.getloadavg()[0], 2)
    t = interleaved(plan, config, {"pool1": LocalPool(1), "pool2": LocalPool(2)}, out)
    after = round(os.getloadavg()[0], 2)
    for bench, key in (("sweep_pool_1_worker", "pool1"), ("sweep_pool_2_workers", "pool2")):
        yield result(bench, statistics.median(t[key]), "s", **common, load_1min=[load, after],
                     core_share_per_run=share(key))  # fmt: skip
    yield result("sweep_pool_speedup_2_vs_1", ratio(t["pool1"], t["pool2"]), "x", target=">= 1.7")
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
    load = round(os.getloadavg()[0], 2)
    try:
        t = interleaved(plan, config, {"pool2": LocalPool(2), "ray": ray}, out)
    finally:
        ray.close()
    after = round(os.getloadavg()[0], 2)
    yield result("sweep_ray_local_2_cpus", statistics.median(t["ray"]), "s", **common,
                 load_1min=[load, after], core_share_per_run=share("ray"))  # fmt: skip
    yield result("sweep_ray_vs_pool_2", ratio(t["ray"], t["pool2"]), "x", target="<= 1.25")
