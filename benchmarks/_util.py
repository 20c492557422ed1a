"""Helpers shared by the benchmarks: timing medians, peak memory, generated inputs."""

from __future__ import annotations

import os
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH_DATA = Path(os.environ.get("REPLAYTERM_BENCH_DATA", REPO / "bench-data"))
REPEATS = int(os.environ.get("REPLAYTERM_BENCH_REPEATS", "5"))


def result(bench: str, value: float, unit: str, **extra: Any) -> dict[str, Any]:
    return {"bench": bench, "value": round(float(value), 4), "unit": unit, **extra}


def median_seconds(
    fn: Callable[[], object], repeats: int = REPEATS, setup: Callable[[], object] | None = None
) -> float:
    """Median wall time of ``fn`` over ``repeats`` runs (``setup`` runs untimed before each)."""
    times = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def generated_l2_file(rows: int, seed: int = 1) -> Path:
    """A generated incremental_book_L2 .csv.gz (plus trades beside it) of about ``rows`` rows.

    Made once by the project's own generator and kept in bench-data/ (never committed).
    """
    from replayterm.core.data.synthetic import generate_files

    out = BENCH_DATA / f"l2_{rows}_{seed}"
    marker = out / ".complete"
    if not marker.exists():
        out.mkdir(parents=True, exist_ok=True)
        generate_files(out, seed=seed, target_book_rows=rows)
        marker.touch()
    (book,) = sorted(out.glob("*incremental_book_L2*.csv.gz"))
    return book
