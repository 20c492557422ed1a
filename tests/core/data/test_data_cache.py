"""The Arrow IPC cache: built once, memory-mapped after, rebuilt when damaged, never changes results."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from data_helpers import L2_HEADER, TRADES_HEADER, Writer

from replayterm.core.data import open_sources
from replayterm.core.data.cache import CacheEntry, cache_dir


def _rows(n: int) -> list[str]:
    out = []
    for i in range(n):
        snap = "true" if i < 4 else "false"
        out.append(
            f"ex,AAA,{1000 + i},{2000 + i // 3},{snap},{'bid' if i % 2 else 'ask'},{100 + i % 7},{i % 5}"
        )
    return out


@pytest.fixture
def book(write: Writer) -> Path:
    return write("b.csv.gz", L2_HEADER, *_rows(3000), gz=True)


def test_built_then_hit_and_same_as_uncached(book: Path) -> None:
    (off,) = open_sources(book, use_cache=False)
    (built,) = open_sources(book)
    (hit,) = open_sources(book)
    assert (off.cache_state, built.cache_state, hit.cache_state) == ("off", "built", "hit")
    assert built.table.equals(off.table)
    assert hit.table.equals(off.table)
    entry = CacheEntry(book)
    assert entry.data.exists()
    assert entry.meta.exists()
    assert entry.data.parent == cache_dir()


def test_cache_keeps_warnings_groups_and_kind(write: Writer) -> None:
    path = write(
        "t_liquidations_x.csv",
        TRADES_HEADER,
        "ex,B,1,10,1,buy,1,1",
        "ex,A,1,30,2,buy,1,1",
        "ex,B,1,5,3,sell,1,1",
        "ex,A,1,31,4,buy,1,1",
    )
    first = open_sources(path)
    second = open_sources(path)
    assert [s.cache_state for s in second] == ["hit", "hit"]
    for a, b in zip(first, second, strict=True):
        assert (a.kind, a.symbol, a.unsorted_rows, a.warnings) == (
            b.kind,
            b.symbol,
            b.unsorted_rows,
            b.warnings,
        )
        assert a.table.equals(b.table)
    assert second[0].unsorted_rows == 1
    assert "line 4" in second[0].warnings[0]


def test_one_entry_serves_every_range(book: Path) -> None:
    (full,) = open_sources(book)
    (part,) = open_sources(book, from_ts=2100, to_ts=2500)
    assert part.cache_state == "hit"
    ts = full.column("local_ts")
    assert part.table.equals(full.table.filter((ts >= 2100) & (ts < 2500)))
    assert len(list(cache_dir().glob("*.arrow"))) == 1


def _replace(path: Path, data: bytes) -> None:
    # A new inode: rewriting a file that is memory-mapped in place would crash this process.
    tmp = path.with_suffix(".damaged")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@pytest.mark.parametrize("damage", ["garbage", "truncate", "empty", "meta", "no-meta", "rows"])
def test_damaged_cache_is_rebuilt(book: Path, damage: str) -> None:
    (good,) = open_sources(book, use_cache=False)
    open_sources(book)
    entry = CacheEntry(book)
    data = entry.data.read_bytes()
    if damage == "garbage":
        _replace(entry.data, os.urandom(len(data)))
    elif damage == "truncate":
        _replace(entry.data, data[: len(data) // 2])
    elif damage == "empty":
        _replace(entry.data, b"")
    elif damage == "meta":
        entry.meta.write_text("{not json")
    elif damage == "no-meta":
        entry.meta.unlink()
    else:
        entry.meta.write_text(entry.meta.read_text().replace('"rows": 3000', '"rows": 2999'))
    (again,) = open_sources(book)
    assert again.cache_state == "built"
    assert again.table.equals(good.table)
    (third,) = open_sources(book)
    assert third.cache_state == "hit"


def test_changed_file_gets_a_new_entry_and_the_old_one_goes(book: Path, write: Writer) -> None:
    open_sources(book)
    old = CacheEntry(book)
    write("b.csv.gz", L2_HEADER, *_rows(10), gz=True)
    os.utime(book, ns=(1, 1))
    (src,) = open_sources(book)
    assert src.cache_state == "built"
    assert src.rows == 10
    assert not old.data.exists()
    assert len(list(cache_dir().glob("*.arrow"))) == 1


def test_hit_is_memory_mapped(book: Path) -> None:
    import pyarrow as pa

    open_sources(book)
    before = pa.total_allocated_bytes()  # other tests may hold Arrow memory: compare the growth
    (hit,) = open_sources(book)
    assert hit.table.column("price").chunk(0).buffers()[1].address != 0
    # The rows live in the mapped file, not on Arrow's heap.
    assert pa.total_allocated_bytes() - before < hit.table.nbytes


def test_unwritable_cache_falls_back(book: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("REPLAYTERM_CACHE_DIR", str(blocker / "cache"))
    (src,) = open_sources(book)
    assert src.cache_state == "off"
    assert any("cache not written" in w for w in src.warnings)
    (uncached,) = open_sources(book, use_cache=False)
    assert src.table.equals(uncached.table)


def test_file_changed_while_reading_is_not_cached(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CacheEntry, "still_current", lambda self: False)
    (src,) = open_sources(book)
    assert src.cache_state == "off"
    assert any("changed while it was read" in w for w in src.warnings)
    assert not [p for p in cache_dir().glob("*") if p.name != ".locks"]  # lock files stay (empty)


def test_malformed_metadata_is_rebuilt(book: Path) -> None:
    import json

    open_sources(book)
    entry = CacheEntry(book)
    meta = json.loads(entry.meta.read_text())
    meta["groups"][0]["symbol"] = 7
    entry.meta.write_text(json.dumps(meta))
    (again,) = open_sources(book)
    assert again.cache_state == "built"
    assert again.symbol == "AAA"
