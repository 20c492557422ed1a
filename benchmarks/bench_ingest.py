"""Ingest: first open of a cold .csv.gz (per parser and parse-thread count), the gzip decoders
alone, cached reopen and cache bytes per row.

Input: the generated 10M-row incremental_book_L2 .csv.gz (``REPLAYTERM_BENCH_INGEST_FILE``
overrides it). Each first open runs in a fresh process with an empty cache folder of its own
(``bench_ingest_memory.measure_one``: wall and CPU seconds of all threads, peak RssAnon), so it
includes loading the compiled parsers from numba's disk cache, as a user's first open does.
``REPLAYTERM_BENCH_REPEATS`` runs per variant (default 5), medians; each figure carries the
load average (the machine may be shared) and CPU seconds per 10M rows (less sensitive to load).

Variants: the compiled parsers with the default thread count (``ingest_first_open``), then with
each other count of ``REPLAYTERM_BENCH_PARSE_THREADS`` (default ``1,2,4``: the scaling), and the
general pyarrow reader (``REPLAYTERM_PARSER=general``). The decoders: ISA-L (what the reader
uses) and, when the ``rapidgzip`` package is importable, rapidgzip with 1 and 2 threads, each
decoding the whole file into one reused buffer.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._util import REPEATS, generated_l2_file, median_seconds, result
from benchmarks.bench_ingest_memory import _run_child
from replayterm.core.data import open_sources
from replayterm.core.data.cache import ENV_DIR
from replayterm.core.data.csv_source import PARSE_THREADS

ROWS = 10_000_000
THREADS = [int(n) for n in os.environ.get("REPLAYTERM_BENCH_PARSE_THREADS", "1,2,4").split(",") if n]


def _input() -> Path:
    override = os.environ.get("REPLAYTERM_BENCH_INGEST_FILE")
    return Path(override) if override else generated_l2_file(ROWS)


def _first_opens(path: Path, name: str, env: dict[str, str], target: str | None = None) -> dict[str, Any]:
    runs = [_run_child(path, env) for _ in range(REPEATS)]
    med = {k: statistics.median(float(r[k]) for r in runs) for k in runs[0] if k != "parser"}
    extra = {"target": target} if target else {}
    return result(
        name,
        med["rows_per_s"],
        "rows/s",
        parser=runs[0]["parser"],
        threads=int(env.get("REPLAYTERM_PARSE_THREADS", PARSE_THREADS)),
        seconds=round(med["seconds"], 3),
        cpu_s=round(med["cpu_s"], 2),
        cpu_s_per_10m_rows=round(med["cpu_s_per_10m_rows"], 2),
        peak_rss_anon_mb=round(med["peak_rss_anon_mb"]),
        peak_rss_mb=round(med["peak_rss_mb"]),
        rows=int(runs[0]["rows"]),
        runs=len(runs),
        load_avg=[round(min(r["load_avg"] for r in runs), 1), round(max(r["load_avg"] for r in runs), 1)],
        **extra,
    )


def _decode(open_stream: Callable[[], Any]) -> tuple[float, float, int]:
    """(wall s, CPU s of all threads, bytes) to decode the whole file."""
    buf = np.empty(4 << 20, np.uint8)
    start, cpu = time.perf_counter(), time.process_time()
    size = 0
    with open_stream() as stream:
        while True:
            got = stream.readinto(buf.data)
            if not got:
                break
            size += got
    return time.perf_counter() - start, time.process_time() - cpu, size


def _decoders(path: Path) -> Iterator[dict[str, Any]]:
    from isal import igzip_threaded

    variants: list[tuple[str, Callable[[], Any]]] = [
        ("isal", lambda: igzip_threaded.open(path, "rb", threads=1, block_size=1 << 20))
    ]
    try:
        import rapidgzip
    except ImportError:
        rapidgzip = None
    if rapidgzip is not None:
        for threads in (1, 2):

            def rapid(t: int = threads) -> Any:
                return rapidgzip.open(str(path), parallelization=t)

            variants.append((f"rapidgzip_{threads}_threads", rapid))
    for name, opener in variants:
        runs = [_decode(opener) for _ in range(REPEATS)]
        wall = statistics.median(r[0] for r in runs)
        yield result(
            f"ingest_decode_{name}",
            runs[0][2] / wall / 1e6,
            "MB/s",
            seconds=round(wall, 3),
            cpu_s=round(statistics.median(r[1] for r in runs), 3),
            decoded_mb=round(runs[0][2] / 1e6),
            load_avg=round(os.getloadavg()[0], 1),
        )


def run() -> Iterator[dict[str, Any]]:
    path = _input()
    target = ">= 5e6 rows/s (<= 2 s for 10M rows)"
    for threads in sorted({PARSE_THREADS, *THREADS}, key=lambda t: (t != PARSE_THREADS, t)):
        env = {"REPLAYTERM_PARSE_THREADS": str(threads)}
        if threads == PARSE_THREADS:  # the default
            yield _first_opens(path, "ingest_first_open", env, target=target)
        else:
            yield _first_opens(path, f"ingest_first_open_{threads}_threads", env)
    yield _first_opens(path, "ingest_first_open_general", {"REPLAYTERM_PARSER": "general"})
    yield from _decoders(path)

    cache = Path(tempfile.mkdtemp(prefix="replayterm-bench-cache-"))
    previous = os.environ.get(ENV_DIR)
    os.environ[ENV_DIR] = str(cache)
    try:
        (built,) = open_sources(path)
        rows = built.rows
        assert built.cache_state == "built"
        del built
        common = {"rows": rows, "file": path.name, "file_mb": round(path.stat().st_size / 1e6, 1)}
        reopen = median_seconds(lambda: open_sources(path))
        (hit,) = open_sources(path)
        assert hit.cache_state == "hit"
        yield result("ingest_cached_reopen", reopen * 1000, "ms", target="<= 50", **common)

        size = sum(p.stat().st_size for p in cache.iterdir())
        yield result(
            "ingest_cache_bytes_per_row", size / rows, "bytes/row", cache_mb=round(size / 1e6, 1), **common
        )
    finally:
        if previous is None:
            os.environ.pop(ENV_DIR, None)
        else:
            os.environ[ENV_DIR] = previous
        shutil.rmtree(cache, ignore_errors=True)
