"""Ingest: cold .csv.gz -> Arrow cache (rows/s), cached reopen (ms), cache bytes per row.

Input: the generated 5M-row incremental_book_L2 .csv.gz (``REPLAYTERM_BENCH_INGEST_FILE``
overrides it). Every cold run starts from an empty cache folder of its own.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._util import generated_l2_file, median_seconds, peak_rss_mb, result
from replayterm.core.data import open_sources
from replayterm.core.data.cache import ENV_DIR

ROWS = 5_000_000


def _input() -> Path:
    override = os.environ.get("REPLAYTERM_BENCH_INGEST_FILE")
    return Path(override) if override else generated_l2_file(ROWS)


def run() -> Iterator[dict[str, Any]]:
    path = _input()
    cache = Path(tempfile.mkdtemp(prefix="replayterm-bench-cache-"))
    previous = os.environ.get(ENV_DIR)
    os.environ[ENV_DIR] = str(cache)
    try:

        def clear() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        (source,) = open_sources(path, use_cache=False)
        rows = source.rows
        del source
        common = {"rows": rows, "file": path.name, "file_mb": round(path.stat().st_size / 1e6, 1)}

        cold = median_seconds(lambda: open_sources(path), setup=clear)
        yield result(
            "ingest_csv_gz_cold", rows / cold, "rows/s", seconds=round(cold, 3), target=">= 3e6", **common
        )

        uncached = median_seconds(lambda: open_sources(path, use_cache=False))
        yield result(
            "ingest_csv_gz_no_cache", rows / uncached, "rows/s", seconds=round(uncached, 3), **common
        )

        clear()
        (built,) = open_sources(path)
        assert built.cache_state == "built"
        del built
        reopen = median_seconds(lambda: open_sources(path))
        (hit,) = open_sources(path)
        assert hit.cache_state == "hit"
        yield result("ingest_cached_reopen", reopen * 1000, "ms", target="<= 50", **common)

        size = sum(p.stat().st_size for p in cache.iterdir())
        yield result(
            "ingest_cache_bytes_per_row", size / rows, "bytes/row", cache_mb=round(size / 1e6, 1), **common
        )
        yield result("ingest_peak_rss", peak_rss_mb(), "MB")
    finally:
        if previous is None:
            os.environ.pop(ENV_DIR, None)
        else:
            os.environ[ENV_DIR] = previous
        shutil.rmtree(cache, ignore_errors=True)
