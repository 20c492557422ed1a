"""Several files opened at once are converted into the cache in parallel, one process per file
(up to ``workers``), with one progress bar: the mean of the files' own fractions.

This schedules whole files; how one file is read and parsed is ``ingest``'s business. Each worker
converts its file exactly as a serial open would (the entry's lock makes a concurrent open by
another process wait, not convert twice); the caller then opens every file from the cache, which
maps the tables in milliseconds. A file whose conversion fails in a worker is simply opened again
by the caller, which reports its error as usual. Workers each parse with ``cores / workers``
threads, so the set uses the machine's cores once, not ``workers`` times over.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from replayterm.core.data.cache import CacheEntry
from replayterm.core.data.progress import Monitor

ENV_WORKERS = "REPLAYTERM_INGEST_WORKERS"
# A worker process costs seconds to start (imports, compiled parsers): only files at least this
# big (compressed) are worth one. ``REPLAYTERM_INGEST_MIN_MB`` overrides it (0: always).
ENV_MIN_MB = "REPLAYTERM_INGEST_MIN_MB"
DEFAULT_MIN_MB = 64.0
_shared: Any = None  # the workers' progress slots (a multiprocessing Array of doubles)


def workers_for(n_files: int) -> int:
    try:
        wanted = int(os.environ.get(ENV_WORKERS, "0"))
    except ValueError:
        wanted = 0
    cores = os.cpu_count() or 1
    return max(1, min(n_files, wanted if wanted > 0 else cores))


def needs_conversion(path: Path) -> bool:
    """Not in the cache yet (a cheap check: the entry's files exist)."""
    try:
        entry = CacheEntry(path)
    except OSError:
        return False
    return not (entry.meta.exists() and entry.data.exists())


def _init(slots: Any, threads: int) -> None:
    global _shared
    _shared = slots
    os.environ["REPLAYTERM_PARSE_THREADS"] = str(threads)


def _convert(path: str, slot: int) -> str | None:
    from replayterm.core.data.ingest import ingest

    def progress(fraction: float, _message: str) -> None:
        _shared[slot] = fraction

    try:
        ingest(Path(path), Monitor(progress), True)
    except Exception as exc:  # the caller opens the file again and reports it properly
        return f"{type(exc).__name__}: {exc}"
    finally:
        _shared[slot] = 1.0
    return None


def convert_in_parallel(paths: Sequence[Path], monitor: Monitor, workers: int) -> None:
    """Convert ``paths`` (not cached yet) into the cache, ``workers`` files at a time."""
    ctx = mp.get_context("spawn")  # the caller may run threads: never fork it
    slots = ctx.Array("d", len(paths), lock=False)
    threads = max(1, (os.cpu_count() or 1) // workers)
    names = ", ".join(p.name for p in paths[:3]) + (" ..." if len(paths) > 3 else "")
    pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init, initargs=(slots, threads))
    pending: set[Future[str | None]] = set()
    try:
        pending = {pool.submit(_convert, str(p), i) for i, p in enumerate(paths)}
        while pending:
            _done, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
            monitor.report(sum(slots) / len(paths), f"converting {len(paths)} files in parallel: {names}")
    except BaseException:
        for f in pending:
            f.cancel()
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()  # a killed conversion leaves temporary files the next open removes
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def prefill(paths: Sequence[Path], monitor: Monitor) -> bool:
    """Convert the set's uncached files in parallel when that helps (two or more large files, two
    cores); True when it did."""
    try:
        min_bytes = float(os.environ.get(ENV_MIN_MB, DEFAULT_MIN_MB)) * 1e6
    except ValueError:
        min_bytes = DEFAULT_MIN_MB * 1e6
    todo = [p for p in paths if needs_conversion(p) and _size(p) >= min_bytes]
    workers = workers_for(len(todo))
    if len(todo) < 2 or workers < 2:
        return False
    convert_in_parallel(todo, monitor, workers)
    return True


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
