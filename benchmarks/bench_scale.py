"""Scale: first open, reopen, seek and play of one big generated L2 day, with peak memory.

``REPLAYTERM_BENCH_ROWS`` sets the size (default 100M book rows, plus the trades the generator
writes beside them). Each figure comes from a fresh subprocess so memory and times are those of a
user opening the file: the first open uses an empty cache folder (parse + cache + index), the
reopens use that folder again (mapped cache and index), and the "index" runs keep the Arrow
cache but delete the derived index files first (the index pass alone). A thread samples ``/proc/self/status``
every 20 ms for the peak anonymous memory (``RssAnon``: what must fit in RAM) and the peak
resident size (``VmRSS``, which also counts mapped cache pages the kernel may drop).

Generated inputs are made once under ``REPLAYTERM_BENCH_DATA`` (default ``bench-data/``) with gzip
level 1, which generates a 100M-row day in minutes instead of an hour.
``REPLAYTERM_BENCH_FIRST_OPENS`` (default: ``REPLAYTERM_BENCH_REPEATS``) sets how many first
opens are timed; reopens run ``REPLAYTERM_BENCH_REPEATS`` times.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._util import BENCH_DATA, REPEATS, result

ROWS = int(os.environ.get("REPLAYTERM_BENCH_ROWS", "100000000"))
# First opens parse the whole file again each time (minutes at 100M rows): how many to run.
FIRST_OPENS = int(os.environ.get("REPLAYTERM_BENCH_FIRST_OPENS", str(REPEATS)))
SEEKS = 200

_CHILD = r"""
import json, sys, threading, time
import numpy as np

peaks = {"anon": 0, "rss": 0}
phase = {"anon": 0, "rss": 0}
stop = False

def status():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("RssAnon:", "VmRSS:")):
                key, value = line.split(":")
                out["anon" if key == "RssAnon" else "rss"] = int(value.split()[0]) // 1024
    return out

def sample():
    while not stop:
        s = status()
        for k in peaks:
            peaks[k] = max(peaks[k], s[k])
            phase[k] = max(phase[k], s[k])
        time.sleep(0.02)

threading.Thread(target=sample, daemon=True).start()

def take_phase():
    time.sleep(0.05)
    s = status()
    got = {k: max(phase[k], s[k]) for k in phase}
    phase.update(status())
    return got

from replayterm.core.data import open_sources
from replayterm.core.frames.builder import FrameBuilder
from replayterm.core.replay.instruments import build_instruments
from replayterm.core.replay.cursor import ReplayCursor
from replayterm.core.replay.indexing import warm_up

paths = sys.argv[1:]
out = {}
w = time.perf_counter()
warm_up()  # compiled code from numba's disk cache: the app does this when its replay thread starts
out["warm_up_s"] = time.perf_counter() - w
take_phase()
t0, c0 = time.perf_counter(), time.process_time()
sources = open_sources(paths)
t1, c1 = time.perf_counter(), time.process_time()
out["parser"] = ",".join(sorted({s.parser for s in sources}))
read_mem = take_phase()
# As the app does: the first part indexed, the first frame, then the rest.
instruments = build_instruments(sources, progressive=True)
cursor = ReplayCursor(instruments)
cursor.seek(cursor.start_ts)
FrameBuilder(cursor, 0).frame(0, reset=True)
out["first_frame_s"] = time.perf_counter() - t1
job = instruments.job
if job is not None:
    job.run()
t2, c2 = time.perf_counter(), time.process_time()
index_mem = take_phase()
out.update(read_cpu_s=c1 - c0, index_cpu_s=c2 - c1)
out.update(read_s=t1 - t0, index_s=t2 - t1, open_s=t2 - t0, read_anon_mb=read_mem["anon"],
           index_anon_mb=index_mem["anon"])
book = instruments[0].book
out["rows"] = book.events.n_rows + sum(len(i.trades) for i in instruments if i.trades is not None)
out["book_rows"] = book.events.n_rows
out["events"] = cursor.n_events

rng = np.random.default_rng(1)
targets = [int(t) for t in rng.integers(cursor.start_ts, cursor.end_ts, size=%(seeks)d)] + [cursor.end_ts] * 5
lat, cpu = [], []
builder = FrameBuilder(cursor, 0)
for t in targets:
    s, c = time.perf_counter(), time.thread_time()
    cursor.seek(t)
    builder.frame(0, reset=True)
    lat.append((time.perf_counter() - s) * 1000)
    cpu.append((time.thread_time() - c) * 1000)
out["seek_p50_ms"] = float(np.percentile(lat, 50))
out["seek_p99_ms"] = float(np.percentile(lat, 99))
out["seek_max_ms"] = float(np.max(lat))
out["seek_cpu_p50_ms"] = float(np.percentile(cpu, 50))
out["seek_cpu_p99_ms"] = float(np.percentile(cpu, 99))

# Play the whole file at Max speed: batches of ~1M events, one frame each.
cursor.seek(cursor.start_ts)
s = time.perf_counter()
tl = cursor.timeline
while not cursor.at_end:
    end = min(cursor.position + 1_000_000, len(tl))
    cursor.advance_to(int(tl.ts[end - 1]))
    builder.frame(0, reset=False)
out["play_s"] = time.perf_counter() - s
out["play_rows_per_s"] = book.events.n_rows / out["play_s"]
play_mem = take_phase()
stop = True
out.update(peak_anon_mb=peaks["anon"], peak_rss_mb=peaks["rss"], play_anon_mb=play_mem["anon"])
print(json.dumps(out))
"""


def generated_day(rows: int) -> list[Path]:
    """The book and trades files of one generated day of about ``rows`` book rows."""
    from replayterm.core.data.synthetic import generate_files

    out = BENCH_DATA / f"scale_{rows}"
    marker = out / ".complete"
    if not marker.exists():
        out.mkdir(parents=True, exist_ok=True)
        generate_files(out, seed=13, target_book_rows=rows, compresslevel=1)
        marker.touch()
    book = sorted(out.glob("*incremental_book_L2*.csv.gz"))
    trades = sorted(out.glob("*trades*.csv.gz"))
    return [*book, *trades]


def _child(paths: list[Path], cache: str) -> dict[str, Any]:
    env = {**os.environ, "REPLAYTERM_CACHE_DIR": cache}
    code = _CHILD % {"seeks": SEEKS}
    proc = subprocess.run(
        [sys.executable, "-c", code, *map(str, paths)], env=env, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    out = dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    out["load_avg"] = os.getloadavg()[0]
    return out


def _drop_derived(cache: Path) -> None:
    for path in [*cache.glob("*.d"), cache / "sets"]:
        shutil.rmtree(path, ignore_errors=True)


def run() -> Iterator[dict[str, Any]]:
    paths = generated_day(ROWS)
    label = f"{ROWS // 1_000_000}M" if ROWS >= 1_000_000 else str(ROWS)
    with tempfile.TemporaryDirectory(prefix="replayterm-bench-scale-") as cache:
        first = [_child(paths, cache)]
        reopen = [_child(paths, cache) for _ in range(REPEATS)]
        index = []  # the Arrow cache kept, the derived index files removed: the index pass alone
        for _ in range(REPEATS):
            _drop_derived(Path(cache))
            index.append(_child(paths, cache))
        for _ in range(FIRST_OPENS - 1):  # more first opens on an emptied cache folder
            with tempfile.TemporaryDirectory(prefix="replayterm-bench-scale-") as fresh:
                first.append(_child(paths, fresh))

    def med(runs: list[dict[str, Any]], key: str) -> float:
        return statistics.median(float(r[key]) for r in runs)

    rows = int(first[0]["rows"])
    yield result(
        f"scale_{label}_first_open",
        med(first, "open_s"),
        "s",
        rows=rows,
        parser=first[0]["parser"],
        rows_per_s=round(rows / med(first, "open_s")),
        read_s=round(med(first, "read_s"), 2),
        read_rows_per_s=round(rows / med(first, "read_s")),
        read_cpu_s=round(med(first, "read_cpu_s"), 2),
        read_cpu_s_per_10m_rows=round(med(first, "read_cpu_s") * 1e7 / rows, 2),
        index_s=round(med(first, "index_s"), 2),
        index_cpu_s=round(med(first, "index_cpu_s"), 2),
        target="<= 20 s for a 100M-row day",
        load_avg=[round(min(r["load_avg"] for r in first), 1), round(max(r["load_avg"] for r in first), 1)],
        read_peak_anon_mb=round(med(first, "read_anon_mb")),
        index_peak_anon_mb=round(med(first, "index_anon_mb")),
        runs=len(first),
    )
    yield result(
        f"scale_{label}_reopen",
        med(reopen, "open_s"),
        "s",
        target="<= 1",
        runs=len(reopen),
        warm_up_s=round(med(reopen, "warm_up_s"), 2),
    )
    yield result(
        f"scale_{label}_index",
        med(index, "index_s"),
        "s",
        first_frame_s=round(med(index, "first_frame_s"), 2),
        rows_per_s=round(rows / med(index, "index_s")),
        peak_anon_mb=round(med(index, "peak_anon_mb")),
        runs=len(index),
    )
    for name, runs in (("first_open", first), ("reopen", reopen), ("index", index)):
        # Seek = restore + replay to the target + the frame the GUI gets (with its chart backfill).
        # Wall time includes waiting for a core on a loaded machine; thread CPU time does not.
        yield result(
            f"scale_{label}_{name}_seek_p50",
            med(runs, "seek_p50_ms"),
            "ms",
            cpu_ms=round(med(runs, "seek_cpu_p50_ms"), 3),
        )
        yield result(
            f"scale_{label}_{name}_seek_p99",
            med(runs, "seek_p99_ms"),
            "ms",
            cpu_ms=round(med(runs, "seek_cpu_p99_ms"), 3),
            target="<= 20",
        )
        yield result(
            f"scale_{label}_{name}_play",
            med(runs, "play_rows_per_s"),
            "rows/s",
            seconds=round(med(runs, "play_s"), 2),
        )
        yield result(
            f"scale_{label}_{name}_peak_anon",
            med(runs, "peak_anon_mb"),
            "MB",
            after_read_mb=round(med(runs, "read_anon_mb")),
            index_seek_play_mb=round(max(med(runs, "index_anon_mb"), med(runs, "play_anon_mb"))),
            target="<= 1500",
        )
        yield result(f"scale_{label}_{name}_peak_rss", med(runs, "peak_rss_mb"), "MB")


if __name__ == "__main__":
    for row in run():
        print(json.dumps(row), flush=True)
