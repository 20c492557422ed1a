"""Order flow: building the 1-second table from 10M generated trades, and querying 7 days of it.

The trades (a random walk on a 0.1 tick over seven days, sizes on a 0.001 step) are written once
to an Arrow IPC file under ``bench-data/`` and read memory-mapped, as the app reads its cache.
Each figure runs in a fresh child process so its peak memory is its own: ``build`` is the first
open (the table built and written), ``reopen`` maps it again, and the queries are what the app
asks for over the whole 7 days. ``REPLAYTERM_BENCH_FLOW_TRADES`` sets another size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from benchmarks._util import BENCH_DATA, REPEATS, peak_rss_mb, result

TRADES = int(os.environ.get("REPLAYTERM_BENCH_FLOW_TRADES", "10000000"))
START = 1_721_347_200_000_000  # 2024-07-19T00:00Z
DAYS = 7


def trades_file(n: int = TRADES) -> Path:
    path = BENCH_DATA / f"flow-trades-{n}.arrow"
    if path.exists():
        return path
    BENCH_DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(18)
    schema = pa.schema(
        [("local_ts", pa.int64()), ("price", pa.float64()), ("amount", pa.float64()), ("side", pa.int8())]
    )
    tmp = path.with_suffix(".tmp")
    step = DAYS * 86_400_000_000 // n
    tick = 640_000
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
        for lo in range(0, n, 1 << 20):
            m = min(1 << 20, n - lo)
            ts = START + (lo + np.arange(m)) * step + rng.integers(0, step, m)
            ticks = tick + np.cumsum(rng.integers(-3, 4, m))
            tick = int(ticks[-1])
            amount = np.round(rng.pareto(1.3, m) * 0.05 + 0.001, 3)
            side = np.where(rng.random(m) < 0.5, 1, -1).astype(np.int8)
            writer.write_batch(pa.record_batch([ts, ticks / 10.0, amount, side], schema=schema))
    tmp.rename(path)
    return path


def _columns(path: Path) -> Any:
    from replayterm.core.book.columns import ChunkedColumn
    from replayterm.core.flow import TradeColumns

    table = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
    col = lambda name, dt: ChunkedColumn(table.column(name), dt)  # noqa: E731
    return TradeColumns(
        col("local_ts", np.int64), col("price", np.float64), col("amount", np.float64), col("side", np.int8)
    )


class AnonPeak:
    """Peak anonymous memory (RssAnon) of this process, sampled every 5 ms: mapped file pages
    (the trades, the stored table) belong to the page cache and are not counted."""

    def __init__(self) -> None:
        import threading

        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def now() -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024.0
        return 0.0

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self.now())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(self.peak, self.now())


def child(task: str, path: str, folder: str) -> dict[str, Any]:
    from replayterm.core.flow import OrderFlow

    cols = _columns(Path(path))
    OrderFlow.open(
        _columns(Path(path)).__class__(cols.local_ts[:10], cols.price[:10], cols.amount[:10], cols.side[:10])
    )  # compile
    base = peak_rss_mb()
    anon_before = AnonPeak.now()
    sampler = AnonPeak()
    t0 = time.perf_counter()
    flow = OrderFlow.open(cols, folder=Path(folder) / "flow")
    opened = time.perf_counter() - t0
    out: dict[str, Any] = {"open_s": opened}
    if task == "query":
        _lo, hi = flow.span or (0, 0)
        for name, fn in (
            ("bars_1m_7d", lambda: flow.bars("1m")),
            ("footprint_1m_10ticks_7d", lambda: flow.footprint("1m", group_ticks=10)),
            ("session_profiles_7d", lambda: flow.session_profiles()),
            ("profile_7d", lambda: flow.profile(group_ticks=10)),
            ("cvd_1m_7d", lambda: flow.cvd("1m")),
            ("vwap_1m_7d", lambda: flow.vwap("1m")),
            ("bars_1m_last_hour", lambda: flow.bars("1m", hi - 3_600_000_000 + 1234, hi)),
        ):
            t0 = time.perf_counter()
            fn()
            out[name] = time.perf_counter() - t0
    out["peak_rss_mb"] = peak_rss_mb()
    out["base_rss_mb"] = base
    out["peak_anon_mb"] = sampler.stop()
    out["anon_before_mb"] = anon_before
    return out


def _spawn(task: str, path: Path, folder: Path) -> dict[str, Any]:
    code = "import json,sys; from benchmarks.bench_flow import child; print(json.dumps(child(*sys.argv[1:])))"
    proc = subprocess.run(
        [sys.executable, "-c", code, task, str(path), str(folder)], capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run() -> Iterator[dict[str, Any]]:
    path = trades_file()
    load = os.getloadavg()[0]
    builds, reopens, queries = [], [], []
    for _ in range(max(1, REPEATS // 2)):
        with tempfile.TemporaryDirectory(prefix="bench-flow-") as tmp:
            builds.append(_spawn("build", path, Path(tmp)))
            reopens.append(_spawn("query", path, Path(tmp)))
            queries.append(reopens[-1])
    med = lambda rows, key: float(np.median([r[key] for r in rows]))  # noqa: E731
    per10m = 10_000_000 / TRADES
    yield result("flow_build_per_10M_trades", med(builds, "open_s") * per10m, "s", trades=TRADES, load=load)
    yield result(
        "flow_build_peak_anon",
        med(builds, "peak_anon_mb"),
        "MB",
        before_mb=med(builds, "anon_before_mb"),
        peak_rss_with_mapped_mb=med(builds, "peak_rss_mb"),
        trades=TRADES,
    )
    yield result("flow_reopen", med(reopens, "open_s"), "s", trades=TRADES)
    for key in queries[0]:
        if key.endswith(("_7d", "_hour")):
            yield result(f"flow_{key}", med(queries, key), "s", trades=TRADES)
    yield result(
        "flow_query_peak_anon",
        med(queries, "peak_anon_mb"),
        "MB",
        before_mb=med(queries, "anon_before_mb"),
        peak_rss_with_mapped_mb=med(queries, "peak_rss_mb"),
        load=os.getloadavg()[0],
    )
