"""Book engine: rebuild speed on both paths, checkpoint cost, seek latency (10M generated L2 rows).

Figures: events are book rows. Rebuild = empty book to the end of the file. The first kernel call
of the process (numba cache load, or compilation on a cold cache) is reported on its own and kept
out of every other timing. Set ``REPLAYTERM_BENCH_BOOK_ROWS`` to use another size.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from benchmarks._util import REPEATS, generated_l2_file, median_seconds, result
from replayterm.core.book import BookEvents, BookReplayer, build_checkpoints
from replayterm.core.book import kernel as k

ROWS = int(os.environ.get("REPLAYTERM_BENCH_BOOK_ROWS", "10000000"))
SEEK_TARGETS = 200
SEEK_ROUNDS = 3


def _read_columns(path: Path) -> dict[str, np.ndarray]:
    """The book columns of a Tardis incremental_book_L2 CSV, read straight with pyarrow."""
    opts = pcsv.ConvertOptions(
        include_columns=["local_timestamp", "timestamp", "is_snapshot", "side", "price", "amount"],
        column_types={"side": pa.dictionary(pa.int32(), pa.string())},
    )
    table = pcsv.read_csv(path, convert_options=opts)
    side = table["side"].combine_chunks()
    codes = np.array([1 if s == "bid" else -1 for s in side.dictionary.to_pylist()], dtype=np.int8)
    return {
        "local_ts": table["local_timestamp"].to_numpy(),
        "exch_ts": table["timestamp"].to_numpy(),
        "side": codes[side.indices.to_numpy()],
        "price": table["price"].to_numpy(),
        "amount": table["amount"].to_numpy(),
        "is_snapshot": table["is_snapshot"].to_numpy(zero_copy_only=False),
    }


def _events(c: dict[str, np.ndarray]) -> BookEvents:
    names = ("local_ts", "exch_ts", "side", "price", "amount", "is_snapshot")
    return BookEvents.from_arrays(*(c[n] for n in names))


def _step_all(rp: BookReplayer) -> None:
    step = rp.step
    while step() >= 0:
        pass


def run() -> Iterator[dict[str, Any]]:
    path = generated_l2_file(ROWS)
    cols = _read_columns(path)
    prepare_s = median_seconds(lambda: _events(cols), repeats=3)
    ev = _events(cols)
    n = ev.n_rows
    shape = {"rows": n, "groups": ev.n_groups, "prices": ev.n_prices, "file": path.name}
    yield result("book_prepare", prepare_s, "s", **shape)

    rp = BookReplayer(ev)
    start = time.perf_counter()
    rp.apply_through(1)
    rp.reset()
    rp.step()
    build_checkpoints(ev, budget_bytes=0, progress=None)  # loads the index-pass kernels too
    first_call = time.perf_counter() - start
    cache = "hit" if k.apply_groups.stats.cache_hits else "miss (compiled)"
    yield result("book_kernel_first_call", first_call, "s", numba_cache=cache)

    batch_s = median_seconds(rp.run_to_end, setup=rp.reset)
    yield result("book_rebuild_batch", n / batch_s, "events/s", seconds=round(batch_s, 4), **shape)
    step_s = median_seconds(lambda: _step_all(rp), repeats=max(3, REPEATS // 2), setup=rp.reset)
    yield result(
        "book_rebuild_per_message",
        n / step_s,
        "events/s",
        seconds=round(step_s, 4),
        ns_per_message=round(step_s / ev.n_groups * 1e9, 1),
        **shape,
    )

    cps_box: list[Any] = []
    build_s = median_seconds(lambda: cps_box.append(build_checkpoints(ev)), repeats=3)
    cps = cps_box[-1]
    store = ev.source_nbytes
    yield result("book_checkpoint_build", build_s, "s", checkpoints=len(cps), interval_rows=cps.interval_rows)
    yield result(
        "book_checkpoint_memory",
        cps.nbytes,
        "bytes",
        pct_of_event_store=round(100.0 * cps.nbytes / store, 2),
        event_store_bytes=store,
    )

    rp.checkpoints = cps
    p50s, p99s, maxes = [], [], []
    for r in range(SEEK_ROUNDS):
        rng = np.random.default_rng(1000 + r)
        targets = rng.integers(int(ev.group_ts[0]), int(ev.group_ts[-1]) + 1, SEEK_TARGETS)
        lat = np.empty(SEEK_TARGETS)
        for i, t in enumerate(targets):
            s = time.perf_counter()
            rp.seek(int(t))
            lat[i] = time.perf_counter() - s
        lat_ms = lat * 1e3
        p50s.append(float(np.percentile(lat_ms, 50)))
        p99s.append(float(np.percentile(lat_ms, 99)))
        maxes.append(float(lat_ms.max()))
    yield result("book_seek_p50", statistics.median(p50s), "ms", targets=SEEK_TARGETS, rounds=SEEK_ROUNDS)
    yield result("book_seek_p99", statistics.median(p99s), "ms", max_ms=round(max(maxes), 3))
