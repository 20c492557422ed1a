"""Market-by-order: DBN decode and L3 book build in records/s, seek p99 on an MBO book, peak memory.

Input: the shared Databento ESH4 sample tiled to ``REPLAYTERM_BENCH_MBO_RECORDS`` records (default
5M; each copy shifted in time and order ids, so every copy starts with its own snapshot), written
once to bench-data/ as .dbn.zst (never committed). Anchors from the issue: the dbn reference
decoder 25M records/s and nautilus' Databento loader 11.6M/s on a fast desktop.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from benchmarks._util import BENCH_DATA, REPEATS, REPO, median_seconds, result

RECORDS = int(os.environ.get("REPLAYTERM_BENCH_MBO_RECORDS", "5000000"))
SAMPLE = REPO.parent / "shared" / "data" / "mbo" / "esh4-glbx-mdp3-20231225.mbo.dbn.zst"
SEEKS = 300


def tiled_dbn(records: int) -> Path:
    from replayterm.core.data.mbo.dbn import MBO_DTYPE, decompressed

    out = BENCH_DATA / f"mbo_{records}.dbn.zst"
    if out.exists():
        return out
    raw = decompressed(SAMPLE).to_pybytes()
    (meta_len,) = struct.unpack_from("<I", raw, 4)
    header, body = raw[: 8 + meta_len], np.frombuffer(raw, MBO_DTYPE, offset=8 + meta_len)
    span = int(body["ts_recv"].max() - body["ts_recv"].min()) + 1
    id_span = int(body["order_id"].max()) + 1
    copies = -(-records // body.shape[0])
    BENCH_DATA.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with pa.output_stream(str(tmp), compression="zstd") as sink:
        sink.write(header)
        for c in range(copies):
            part = body.copy()
            for name in ("ts_recv", "ts_event"):
                part[name] += np.uint64(c * span)
            part["order_id"] += np.uint64(c * id_span)
            if (c + 1) * body.shape[0] > records:
                part = part[: records - c * body.shape[0]]
            sink.write(part.tobytes())
    tmp.rename(out)
    return out


def _peak(records: int) -> float:
    """Peak RSS (MB) of a fresh process that decodes and builds the L3 book of ``records``."""
    code = (
        "import resource; from pathlib import Path; from benchmarks.bench_mbo import tiled_dbn\n"
        "from replayterm.core.data.mbo.dbn import read_dbn\n"
        "from replayterm.core.book.l3 import L3Events, derive_l2\n"
        f"r = read_dbn(tiled_dbn({records})); e = L3Events.from_records(r); derive_l2(e)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def run() -> Iterator[dict[str, Any]]:
    if not SAMPLE.exists():
        yield {"bench": "mbo", "skipped": "the shared Databento sample is absent"}
        return
    import databento_dbn

    from replayterm.core.book.l3 import L3Book, L3Events, derive_l2
    from replayterm.core.data.mbo.dbn import read_dbn

    data = SAMPLE.read_bytes()
    n_sample = len(read_dbn(SAMPLE))

    def objects() -> None:
        databento_dbn.DBNDecoder(compression=databento_dbn.Compression.ZSTD).write_and_decode(data)

    t_obj = median_seconds(objects, REPEATS)
    yield result("dbn_decode_objects", n_sample / t_obj, "records/s", records=n_sample,
                 note="databento_dbn.DBNDecoder, one Python object per record")  # fmt: skip
    t_arr = median_seconds(lambda: read_dbn(SAMPLE), REPEATS)
    yield result("dbn_decode_arrays_sample", n_sample / t_arr, "records/s", records=n_sample)

    path = tiled_dbn(RECORDS)
    t_dec = median_seconds(lambda: read_dbn(path), REPEATS)
    yield result("dbn_decode_arrays", RECORDS / t_dec, "records/s", records=RECORDS,
                 note="zstd decompression + metadata via databento_dbn + numpy struct view")  # fmt: skip
    records = read_dbn(path)
    t_prep = median_seconds(lambda: L3Events.from_records(records), REPEATS)
    events = L3Events.from_records(records)
    derive_l2(events)  # numba cache load out of the timing
    t_build = median_seconds(lambda: derive_l2(events), REPEATS)
    yield result("l3_prepare", RECORDS / t_prep, "records/s", records=RECORDS, note="dense order/price ids")
    yield result("l3_build", RECORDS / t_build, "records/s", records=RECORDS,
                 note="every order FIFO per price, L2 rows emitted per end of event")  # fmt: skip
    book = L3Book(events)
    start = time.perf_counter()
    book.build_checkpoints()
    yield result("l3_checkpoints", time.perf_counter() - start, "s", records=RECORDS,
                 bytes=book.checkpoints.nbytes if book.checkpoints else 0)  # fmt: skip
    rng = np.random.default_rng(3)
    targets = rng.integers(0, events.n_records, SEEKS)
    times = []
    for t in targets.tolist():
        s0 = time.perf_counter()
        book.sync(t)
        times.append(time.perf_counter() - s0)
    ms = np.array(times) * 1e3
    yield result(
        "l3_seek_p99", float(np.percentile(ms, 99)), "ms", median_ms=float(np.median(ms)), seeks=SEEKS
    )
    small, big = RECORDS // 4, RECORDS
    yield result(
        "mbo_peak_rss",
        _peak(big),
        "MB",
        records=big,
        smaller=json.dumps({"records": small, "MB": _peak(small)}),
    )
