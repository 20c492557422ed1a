"""A set of files is converted in parallel worker processes with one progress bar, and opens to
exactly what a serial open gives (issue 22)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from replayterm.core.data import open_sources
from replayterm.core.data.cache import cache_dir


def _day(path: Path, day: int, rows: int = 3000) -> Path:
    t0 = (1_704_153_600 + day * 86_400) * 1_000_000
    lines = ["exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"]
    lines += [f"ex,AAA,{t0},{t0},true,bid,{99 - i * 0.5},1" for i in range(5)]
    lines += [
        f"ex,AAA,{t0 + i},{t0 + i},false,{'bid' if i % 2 else 'ask'},{100 + i % 7},{i % 5}"
        for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_set_converted_in_parallel_equals_a_serial_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [_day(tmp_path / f"d{i}.csv", i) for i in range(3)]
    serial = open_sources(files, use_cache=False)
    monkeypatch.setenv("REPLAYTERM_INGEST_WORKERS", "2")
    monkeypatch.setenv("REPLAYTERM_INGEST_MIN_MB", "0")
    seen: list[float] = []
    parallel = open_sources(files, progress=lambda f, _m: seen.append(f))
    assert [s.cache_state for s in parallel] == ["hit"] * 3  # the workers filled the cache
    assert seen == sorted(seen)  # one bar, never going back
    assert seen[-1] == 1.0
    for a, b in zip(serial, parallel, strict=True):
        for col in ("local_ts", "exch_ts", "side", "price", "amount", "is_snapshot"):
            assert np.array_equal(a.column(col), b.column(col))
    assert not [p for p in cache_dir().iterdir() if p.name.endswith(".tmp")]
