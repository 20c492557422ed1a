"""First open at scale: rows/s and peak memory (RssAnon, RSS) of a cold .csv.gz -> Arrow cache.

Each run is a fresh process with an empty cache folder of its own; a thread samples
``/proc/self/status`` (VmRSS, RssAnon) every 10 ms. Sizes: ``REPLAYTERM_BENCH_INGEST_ROWS``
(comma-separated, default ``10000000,30000000``); inputs are generated once into bench-data/
(``REPLAYTERM_BENCH_DATA`` moves it). ``REPLAYTERM_BENCH_REPEATS`` runs per size (default 5),
medians reported. Peak RssAnon must not grow with the file: the first open holds one batch at a
time, never the table.

``python -m benchmarks.bench_ingest_memory FILE`` measures one first open of FILE (what each
run does) and prints its JSON line.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._util import REPEATS, generated_l2_file, result

SIZES = [int(n) for n in os.environ.get("REPLAYTERM_BENCH_INGEST_ROWS", "10000000,30000000").split(",")]


class MemorySampler:
    """Peak VmRSS and RssAnon of this process, sampled in a background thread (MB)."""

    def __init__(self, interval_s: float = 0.01) -> None:
        self.interval_s = interval_s
        self.peak = {"VmRSS": 0.0, "RssAnon": 0.0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                key, _, value = line.partition(":")
                if key in self.peak:
                    self.peak[key] = max(self.peak[key], int(value.split()[0]) / 1024.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval_s)

    def __enter__(self) -> MemorySampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def measure_one(path: Path) -> dict[str, Any]:
    """One cold first open of ``path`` in this process (the cache folder must be empty)."""
    from replayterm.core.data import open_sources

    with MemorySampler() as memory:
        before = dict(memory.peak)
        start, cpu = time.perf_counter(), time.process_time()
        sources = open_sources(path)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    rows = sum(s.rows for s in sources)
    assert all(s.cache_state == "built" for s in sources)
    return {
        "parser": sources[0].parser if sources else "",
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        # CPU seconds of all threads: on a busy machine wall time mostly measures the other jobs.
        "cpu_s": cpu,
        "rows_per_cpu_s": rows / cpu,
        "cpu_s_per_10m_rows": cpu * 1e7 / max(rows, 1),
        "peak_rss_mb": memory.peak["VmRSS"],
        "peak_rss_anon_mb": memory.peak["RssAnon"],
        "start_rss_anon_mb": before["RssAnon"],
    }


def _run_child(path: Path, env_extra: dict[str, str] | None = None) -> dict[str, Any]:
    """One cold first open of ``path`` in a fresh process with an empty cache folder."""
    cache = Path(tempfile.mkdtemp(prefix="replayterm-bench-cache-"))
    try:
        env = {**os.environ, "REPLAYTERM_CACHE_DIR": str(cache), "REPLAYTERM_CACHE_MAX_GB": "0"}
        env.update(env_extra or {})
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_ingest_memory", str(path)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        measured = dict(json.loads(out.strip().splitlines()[-1]))
        measured["load_avg"] = os.getloadavg()[0]
        return measured
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def _spread(runs: list[dict[str, Any]], key: str) -> list[int]:
    return [round(min(r[key] for r in runs)), round(max(r[key] for r in runs))]


def run() -> Iterator[dict[str, Any]]:
    for rows in SIZES:
        path = generated_l2_file(rows)
        runs = [_run_child(path) for _ in range(REPEATS)]
        med = {key: statistics.median(r[key] for r in runs) for key in runs[0] if key != "parser"}
        common = {"rows": runs[0]["rows"], "file_mb": round(path.stat().st_size / 1e6, 1), "runs": len(runs)}
        yield result(
            "first_open_rows_per_s",
            med["rows_per_s"],
            "rows/s",
            seconds=round(med["seconds"], 2),
            range=_spread(runs, "rows_per_s"),
            cpu_s=round(med["cpu_s"], 2),
            rows_per_cpu_s=round(med["rows_per_cpu_s"]),
            cpu_s_per_10m_rows=round(med["cpu_s_per_10m_rows"], 2),
            parser=runs[0]["parser"],
            load_avg=round(med["load_avg"], 1),
            target=">= 5e6",
            **common,
        )
        yield result(
            "first_open_peak_rss_anon",
            med["peak_rss_anon_mb"],
            "MB",
            at_start=round(med["start_rss_anon_mb"], 1),
            range=_spread(runs, "peak_rss_anon_mb"),
            **common,
        )
        yield result("first_open_peak_rss", med["peak_rss_mb"], "MB", **common)


if __name__ == "__main__":
    print(json.dumps(measure_one(Path(sys.argv[1]))), flush=True)
