"""End to end: open + fully rebuild a 10M-row .csv.gz (wall s, peak MB), cursor seeks, export rows/s.

The open-and-rebuild figure runs in a fresh subprocess per repeat, with an empty cache, so peak
memory and wall time are those a user gets when opening the file for the first time.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._util import REPEATS, generated_l2_file, median_seconds, result

ROWS = 10_000_000

_CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
from replayterm.core.data import open_sources
from replayterm.core.replay.instruments import build_instruments
t1 = time.perf_counter()
sources = open_sources([sys.argv[1]])
t2 = time.perf_counter()
(inst,) = build_instruments(sources)   # prepare, checkpoints + full rebuild in one pass
inst.book.run_to_end()
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "read_s": t2 - t1, "index_s": t3 - t2, "open_rebuild_s": t3 - t1,
                  "rows": inst.book.events.n_rows,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _open_and_rebuild(path: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="replayterm-bench-cache-") as cache:
        env = {**os.environ, "REPLAYTERM_CACHE_DIR": cache}
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, str(path)], env=env, capture_output=True, text=True, check=True
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run() -> Iterator[dict[str, Any]]:
    path = generated_l2_file(ROWS)
    _open_and_rebuild(path)  # warm numba's on-disk cache and the OS page cache
    runs = [_open_and_rebuild(path) for _ in range(REPEATS)]
    rows = int(runs[0]["rows"])

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    yield result(
        "open_rebuild_10M_csv_gz",
        med("open_rebuild_s"),
        "s",
        read_s=round(med("read_s"), 3),
        index_s=round(med("index_s"), 3),
        rows=rows,
        target="<= 4",
    )
    yield result("open_rebuild_10M_peak_rss", med("peak_mb"), "MB", target="<= 1500")

    from replayterm.core.data import open_sources
    from replayterm.core.replay.cursor import ReplayCursor
    from replayterm.core.replay.export import export_book_snapshots
    from replayterm.core.replay.instruments import build_instruments

    trades = sorted(path.parent.glob("*trades*.csv.gz"))
    cursor = ReplayCursor(build_instruments(open_sources([path, *trades])))
    rng = np.random.default_rng(0)
    targets = rng.integers(cursor.start_ts, cursor.end_ts, size=200)
    lat = []
    for _ in range(3):
        for t in targets:
            start = time.perf_counter()
            cursor.seek(int(t))
            lat.append((time.perf_counter() - start) * 1000)
    yield result(
        "cursor_seek_p50", float(np.percentile(lat, 50)), "ms", p99=round(float(np.percentile(lat, 99)), 3)
    )
    yield result("cursor_seek_p99", float(np.percentile(lat, 99)), "ms", target="<= 20")

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "snap.csv.gz"
        holder: dict[str, int] = {}

        def export() -> None:
            holder["rows"] = export_book_snapshots(cursor.instruments, out, depth=25, interval_ms=0).rows

        seconds = median_seconds(export, repeats=3)
        yield result(
            "export_book_snapshot_25_every_change",
            holder["rows"] / seconds,
            "rows/s",
            seconds=round(seconds, 2),
            rows=holder["rows"],
            messages_per_s=round(cursor.instruments[0].book.events.n_groups / seconds),  # type: ignore[union-attr]
        )
        seconds = median_seconds(
            lambda: export_book_snapshots(cursor.instruments, out, depth=25, interval_ms=1000), repeats=3
        )
        yield result("export_book_snapshot_25_1s", seconds, "s", events=rows)
