"""Parallel ingest of a set: two generated daily L2 files opened together on a cold cache, one
file after the other (``REPLAYTERM_INGEST_WORKERS=1``) and in parallel (two workers), each run in
a fresh process with an empty cache folder. ``REPLAYTERM_BENCH_PARALLEL_ROWS`` sets the rows per
file (default 2M), ``REPLAYTERM_BENCH_REPEATS`` the runs per variant (medians). The figure is the
speed-up; the target on two cores is >= 1.7x (the machine may be shared: see the load average).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from benchmarks._util import REPEATS, generated_l2_file, result

ROWS = int(os.environ.get("REPLAYTERM_BENCH_PARALLEL_ROWS", "2000000"))
CHILD = (
    "import sys; from replayterm.core.data import open_sources; "
    "s = open_sources(sys.argv[1:]); print(sum(x.rows for x in s))"
)


def _one(files: list[str], workers: int) -> tuple[float, int, float]:
    with tempfile.TemporaryDirectory(prefix="replayterm-bench-par-") as cache:
        env = {
            **os.environ,
            "REPLAYTERM_CACHE_DIR": cache,
            "REPLAYTERM_INGEST_WORKERS": str(workers),
            "REPLAYTERM_INGEST_MIN_MB": "0",
        }
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", CHILD, *files], env=env, capture_output=True, text=True, check=True
        )
        return time.perf_counter() - t0, int(out.stdout.strip()), load


def run() -> Iterator[dict[str, Any]]:
    files = [str(generated_l2_file(ROWS, seed=s)) for s in (1, 2)]
    times: dict[int, list[float]] = {1: [], 2: []}
    loads: list[float] = []
    rows = 0
    for _ in range(REPEATS):
        for workers in (1, 2):  # interleaved, so both variants see the same load
            seconds, rows, load = _one(files, workers)
            times[workers].append(seconds)
            loads.append(load)
    serial, parallel = statistics.median(times[1]), statistics.median(times[2])
    common = {
        "rows": rows,
        "files": 2,
        "runs": REPEATS,
        "load_avg": [round(min(loads), 1), round(max(loads), 1)],
    }
    yield result("parallel_ingest_serial", serial, "s", **common)
    yield result("parallel_ingest_two_workers", parallel, "s", **common)
    yield result("parallel_ingest_speedup", serial / parallel, "x", target=">= 1.7 on two cores", **common)
