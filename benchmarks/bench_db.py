"""Databases: PostgreSQL -> Arrow cache rows/s with peak memory, the two drivers side by side, and
Redis publish msg/s. ``python -m benchmarks db``

A private PostgreSQL and Redis are started (tests/local_servers.py); a Tardis-shaped
incremental_book_L2 table of ``REPLAYTERM_BENCH_DB_ROWS`` rows (default 10,000,000, made by
``generate_series`` on the server) is read over the server's Unix socket. Each figure is the
median of ``REPLAYTERM_BENCH_REPEATS`` (default 5; ``REPLAYTERM_BENCH_DB_REPEATS`` overrides)
runs, each in a fresh process with an empty cache; peak RssAnon/VmRSS are sampled every 10 ms.

- ``db_to_cache``: ``open_sources('postgresql://…?table=…')``: the whole first open (query,
  normalize, group, write the Arrow cache), as the app and every command do it.
- ``db_adbc_stream``: ADBC's PostgreSQL driver alone, ``COPY (SELECT …) TO STDOUT (FORMAT BINARY)``
  decoded to Arrow batches (what the first open reads from).
- ``db_psycopg_copy_bytes``: psycopg 3 ``COPY … TO STDOUT (FORMAT BINARY)``, bytes only, not
  decoded: the wire's ceiling for that driver.
- ``db_psycopg_copy_rows``: psycopg 3 ``copy.rows()`` with binary types on the first million rows:
  decoding in Python, one tuple per row.
- ``redis_publish``: ``RedisPublisher`` at speed max: messages (the WebSocket's JSON) encoded and
  published per second, with one pattern subscriber reading them.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._util import REPEATS, REPO, result
from benchmarks.bench_ingest_memory import MemorySampler

ROWS = int(os.environ.get("REPLAYTERM_BENCH_DB_ROWS", "10000000"))
DB_REPEATS = int(os.environ.get("REPLAYTERM_BENCH_DB_REPEATS", str(REPEATS)))
TABLE = "bench_l2"
COLUMNS = "exchange, symbol, timestamp, local_timestamp, is_snapshot, side, price, amount"
SELECT = f"SELECT {COLUMNS} FROM {TABLE} ORDER BY seq"


def _servers() -> Any:
    sys.path.insert(0, str(REPO / "tests"))
    import local_servers

    return local_servers


def _fill(url: str, rows: int) -> None:
    """A book of ``rows`` rows: one 200-row snapshot, then messages of 10 rows, 1 ms apart."""
    import adbc_driver_postgresql.dbapi as dbapi

    base = 1_720_000_000_000_000
    with dbapi.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(
            f"CREATE TABLE {TABLE} (exchange text NOT NULL, symbol text NOT NULL, timestamp bigint, "
            "local_timestamp bigint NOT NULL, is_snapshot boolean, side text, price double precision, "
            "amount double precision, seq bigint NOT NULL)"
        )
        cur.execute(
            f"INSERT INTO {TABLE} SELECT 'bench', 'BENCHUSD', t - 1500, t, s < 200, "
            "CASE WHEN s % 2 = 0 THEN 'bid' ELSE 'ask' END, "
            "CASE WHEN s % 2 = 0 THEN 60000 - (s % 100) * 0.1 ELSE 60000.1 + (s % 100) * 0.1 END, "
            "((s * 7) % 11) * 0.25, s "
            f"FROM (SELECT s, {base} + CASE WHEN s < 200 THEN 0 ELSE (s / 10) * 1000 END AS t "
            f"FROM generate_series(0, {rows - 1}) AS s) AS g"
        )
        cur.execute(f"CREATE INDEX ON {TABLE} (seq)")
        cur.execute(f"VACUUM ANALYZE {TABLE}")


def _server_cpu(folder: Path) -> float:
    """CPU seconds of the PostgreSQL server so far: the postmaster and its reaped backends."""
    pid = int((folder / "data" / "postmaster.pid").read_text().split()[0])
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


def _measure(kind: str, url: str) -> dict[str, Any]:
    """One run in this process: rows, seconds, CPU seconds, peak memory (imports not counted)."""
    import adbc_driver_postgresql.dbapi
    import psycopg

    import replayterm.core.data

    del adbc_driver_postgresql, psycopg, replayterm  # loaded before the clocks start

    started = time.perf_counter()
    cpu_started = time.process_time()
    with MemorySampler() as memory:
        rows = 0
        extra: dict[str, Any] = {}
        if kind == "db_to_cache":
            from replayterm.core.data import open_sources

            rows = sum(s.rows for s in open_sources([f"{url}&table={TABLE}"]))
        elif kind == "db_adbc_stream":
            import adbc_driver_postgresql.dbapi as dbapi

            with dbapi.connect(url) as conn, conn.cursor() as cur:
                cur.adbc_statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(16 << 20)})
                cur.execute(SELECT)
                for batch in cur.fetch_record_batch():
                    rows += batch.num_rows
        elif kind == "db_psycopg_copy_bytes":
            import psycopg

            size = 0
            with psycopg.connect(url) as conn, conn.cursor() as cur:
                with cur.copy(f"COPY ({SELECT}) TO STDOUT (FORMAT BINARY)") as copy:
                    for block in copy:
                        size += len(block)
                cur.execute(f"SELECT count(*) FROM {TABLE}")
                rows = int(cur.fetchone()[0])  # type: ignore[index]
            extra["mb"] = round(size / 1e6, 1)
        elif kind == "db_psycopg_copy_rows":
            import psycopg

            with psycopg.connect(url) as conn, conn.cursor() as cur:
                sql = f"COPY ({SELECT} LIMIT 1000000) TO STDOUT (FORMAT BINARY)"
                with cur.copy(sql) as copy:
                    copy.set_types(["text", "text", "int8", "int8", "bool", "text", "float8", "float8"])
                    for _ in copy.rows():
                        rows += 1
        else:
            raise ValueError(kind)
    seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "seconds": seconds,
        "client_cpu_s": time.process_time() - cpu_started,
        **{f"peak_{k}_mb": round(v, 1) for k, v in memory.peak.items()},
        **extra,
    }


def _child(kind: str, url: str, cache: Path, server: Path) -> dict[str, Any]:
    env = {**os.environ, "REPLAYTERM_CACHE_DIR": str(cache)}
    server_started = _server_cpu(server)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_db", kind, url],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=3600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{done.stderr[-3000:]}")
    measured = dict(json.loads(done.stdout.strip().splitlines()[-1]))
    measured["server_cpu_s"] = _server_cpu(server) - server_started
    return measured


def _redis_publish(redis_url: str) -> dict[str, Any]:
    """Messages/s published by the fan-out at speed max on the bundled sample, one subscriber."""
    import redis

    from replayterm.qt.app import bundled_sample
    from replayterm.serve.catalog import Catalog
    from replayterm.serve.redis_sink import RedisConfig, RedisPublisher

    files = [f for f in bundled_sample() if "book_ticker" not in f]
    catalog = Catalog.open(files)
    counted = [0]
    sub = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    sub.psubscribe("*:*:*")
    sub.subscribe("replayterm:status")
    ended = threading.Event()

    def listen() -> None:
        while not ended.is_set():
            msg = sub.get_message(timeout=0.5)
            if msg is None:
                continue
            if msg["channel"] == b"replayterm:status":
                if json.loads(msg["data"])["state"] == "ended":
                    ended.set()
            else:
                counted[0] += 1

    async def run() -> float:
        publisher = RedisPublisher(catalog, RedisConfig(redis_url, speed=None))
        await publisher.connect()
        started = time.perf_counter()
        task = asyncio.create_task(publisher.run())
        while not ended.is_set():
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return elapsed

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    elapsed = asyncio.run(run())
    thread.join(5)
    sub.close()
    return {"messages": counted[0], "seconds": elapsed}


def run() -> Iterator[dict[str, Any]]:
    servers = _servers()
    pg = servers.start_postgres()
    redis_server = servers.start_redis()
    try:
        started = time.perf_counter()
        _fill(pg.socket_url, ROWS)
        yield result("db_fill_table", ROWS / (time.perf_counter() - started), "rows/s", rows=ROWS)
        url = pg.socket_url
        for kind in ("db_to_cache", "db_adbc_stream", "db_psycopg_copy_bytes", "db_psycopg_copy_rows"):
            runs = []
            for _ in range(DB_REPEATS):
                with tempfile.TemporaryDirectory() as cache:
                    runs.append(_child(kind, url, Path(cache), pg.folder))
            rows = runs[0]["rows"]
            seconds = statistics.median(r["seconds"] for r in runs)
            client = statistics.median(r["client_cpu_s"] for r in runs)
            server = statistics.median(r["server_cpu_s"] for r in runs)
            # Client and server work in parallel on a stream: on two idle cores the slower of
            # the two bounds the rate.
            per_cpu = {
                "client_cpu_s": round(client, 2),
                "server_cpu_s": round(server, 2),
                "rows_per_client_cpu_s": round(rows / client) if client else None,
                "rows_per_server_cpu_s": round(rows / server) if server else None,
            }
            peaks = {
                k: statistics.median(r[k] for r in runs)
                for k in runs[0]
                if k.startswith("peak_") or k == "mb"
            }
            extra = {**per_cpu, **peaks}
            yield result(
                kind,
                rows / seconds,
                "rows/s",
                rows=rows,
                seconds=round(seconds, 2),
                runs=len(runs),
                load=Path("/proc/loadavg").read_text().split()[:3],
                **extra,
            )
        publishes = [_redis_publish(redis_server.url) for _ in range(DB_REPEATS)]
        seconds = statistics.median(p["seconds"] for p in publishes)
        messages = publishes[0]["messages"]
        yield result(
            "redis_publish",
            messages / seconds,
            "msg/s",
            messages=messages,
            seconds=round(seconds, 2),
            runs=len(publishes),
            load=Path("/proc/loadavg").read_text().split()[:3],
        )
    finally:
        redis_server.stop()
        pg.stop()


if __name__ == "__main__":
    print(json.dumps(_measure(sys.argv[1], sys.argv[2])))
