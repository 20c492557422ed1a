"""Cache management: list, clear [--older-than], the size cap with least-recently-used eviction."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from data_helpers import TRADES_HEADER, Writer

from replayterm.cli import main
from replayterm.core.data import cache_admin, open_sources
from replayterm.core.data.cache import LOCKS, CacheEntry, cache_dir
from replayterm.core.store.locks import acquire


@pytest.fixture(autouse=True)
def fresh_process_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new process would: nothing in use, no cap from settings."""
    monkeypatch.setattr(cache_admin, "_in_use", set())
    monkeypatch.setattr(cache_admin, "_cap_gb", None)
    monkeypatch.delenv(cache_admin.ENV_CAP, raising=False)


def _file(write: Writer, name: str, rows: int = 200) -> Path:
    lines = [f"ex,AAA,{i},{i},{i},buy,{100 + i % 7},1" for i in range(rows)]
    return write(name, TRADES_HEADER, *lines)


def _age(entry: CacheEntry, days: float) -> None:
    when = time.time() - days * 86400
    os.utime(entry.meta, (when, when))


def _forget_use() -> None:
    cache_admin._in_use.clear()


def test_list_counts_every_file_of_an_entry_and_sets(write: Writer) -> None:
    path = _file(write, "a.csv")
    open_sources(path)
    entry = CacheEntry(path)
    entry.derived_dir.mkdir()
    (entry.derived_dir / "index.bin").write_bytes(b"x" * 5000)
    sets = cache_dir() / "sets" / "abc123"
    sets.mkdir(parents=True)
    (sets / "merge.bin").write_bytes(b"y" * 7000)
    items = {i.name: i for i in cache_admin.list_items()}
    assert set(items) == {entry.stem, "sets/abc123"}
    mine = items[entry.stem]
    assert mine.source == str(path.resolve())
    assert (mine.kind, mine.rows, mine.complete) == ("trades", 200, True)
    assert mine.size == entry.data.stat().st_size + entry.meta.stat().st_size + 5000
    assert items["sets/abc123"].size == 7000


def test_reopen_touches_last_use(write: Writer) -> None:
    path = _file(write, "a.csv")
    open_sources(path)
    entry = CacheEntry(path)
    _age(entry, 3)
    (hit,) = open_sources(path)
    assert hit.cache_state == "hit"
    assert time.time() - entry.meta.stat().st_mtime < 60


def test_clear_older_than_keeps_recent_entries(write: Writer, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = _file(write, "old.csv"), _file(write, "new.csv")
    open_sources([old, new])
    old_entry, new_entry = CacheEntry(old), CacheEntry(new)
    old_entry.derived_dir.mkdir()
    (old_entry.derived_dir / "checkpoints.bin").write_bytes(b"z")
    _age(old_entry, 10)
    _age(new_entry, 2)
    _forget_use()  # as in a new process
    assert main(["cache", "clear", "--older-than", "7"]) == 0
    assert "removed 1 entries" in capsys.readouterr().out
    assert not any(p.name.startswith(old_entry.stem) for p in cache_dir().iterdir())
    assert new_entry.meta.exists()
    assert main(["cache", "clear"]) == 0
    assert list(cache_dir().iterdir()) == []


def test_cache_list_command(write: Writer, capsys: pytest.CaptureFixture[str]) -> None:
    path = _file(write, "a.csv")
    open_sources(path)
    assert main(["cache", "list"]) == 0
    out = capsys.readouterr().out
    assert str(cache_dir()) in out
    assert str(path.resolve()) in out
    assert "trades, 200 rows" in out
    assert main(["cache", "list", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["entries"][0]["source"] == str(path.resolve())
    assert report["total_bytes"] == sum(e["bytes"] for e in report["entries"])


def test_eviction_removes_least_recently_used_first(write: Writer, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [_file(write, f"{name}.csv", rows=2000) for name in "abcd"]
    for days, path in zip((5, 1, 3), paths[:3], strict=True):
        open_sources(path)
        _age(CacheEntry(path), days)
    _forget_use()  # a later process: nothing is in use
    size = CacheEntry(paths[0]).data.stat().st_size + CacheEntry(paths[0]).meta.stat().st_size
    # Room for about three entries: the fourth open must evict the least recently used one (a).
    monkeypatch.setenv(cache_admin.ENV_CAP, str(3.5 * size / 1e9))
    open_sources(paths[3])
    left = {Path(i.source or "").name for i in cache_admin.list_items()}
    assert left == {"b.csv", "c.csv", "d.csv"}
    # Room for two: c (used 3 days ago) goes, then b (1 day); d (used just now) stays.
    monkeypatch.setenv(cache_admin.ENV_CAP, str(2.5 * size / 1e9))
    _forget_use()
    open_sources(paths[0])
    left = {Path(i.source or "").name for i in cache_admin.list_items()}
    assert left == {"a.csv", "d.csv"}


def test_eviction_never_removes_entries_of_the_current_open(
    write: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = [_file(write, f"{name}.csv", rows=2000) for name in "abc"]
    monkeypatch.setenv(cache_admin.ENV_CAP, "0.000000001")  # a cap smaller than any entry
    sources = open_sources(paths)
    assert [s.cache_state for s in sources] == ["built"] * 3
    assert len(cache_admin.list_items()) == 3
    assert [s.rows for s in sources] == [2000] * 3
    cache_admin.set_cap_gb(0)  # the app's setting: no cap
    assert cache_admin.cap_bytes() is None


def test_temporary_files_are_cleared_unless_their_entry_is_being_written(write: Writer) -> None:
    path = _file(write, "a.csv")
    open_sources(path)
    root = cache_dir()
    dead = root / "0123-4567.arrow.abc.tmp"  # left by a conversion that was killed
    live = root / "89ab-cdef.arrow.def.tmp"  # a conversion in progress holds its entry's lock
    dead.write_bytes(b"x")
    live.write_bytes(b"x")
    assert all(i.size == 0 for i in cache_admin.list_items() if not i.complete)  # never counted
    held = acquire(root / LOCKS / "89ab-cdef.lock")
    assert held is not None
    try:
        _forget_use()
        cache_admin.clear()
        assert sorted(p.name for p in root.iterdir()) == [".locks", live.name]
    finally:
        held.release()
    cache_admin.clear()
    assert list(root.iterdir()) == []


def test_new_state_of_a_file_replaces_the_old_entry_and_its_derived_files(write: Writer) -> None:
    path = _file(write, "a.csv")
    open_sources(path)
    old = CacheEntry(path)
    old.derived_dir.mkdir()
    (old.derived_dir / "index.bin").write_bytes(b"x")
    _file(write, "a.csv", rows=300)
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    open_sources(path)
    names = [p.name for p in cache_dir().iterdir()]
    assert not any(n.startswith(old.stem) for n in names)
    assert len(cache_admin.list_items()) == 1
