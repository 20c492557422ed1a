"""Several processes opening one fresh file, and builds killed with SIGKILL midway (issue 22)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from replayterm.core.data import cache_admin, open_sources
from replayterm.core.data.cache import cache_dir
from replayterm.core.replay.instruments import build_instruments
from replayterm.core.store import space

CHILD = Path(__file__).with_name("open_child.py")
HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"


def write_book(path: Path, messages: int = 6000, seed: int = 5) -> Path:
    """A book file: a 200-level snapshot, then ``messages`` updates of 1-4 rows."""
    rng = np.random.default_rng(seed)
    lines = [HEADER]
    t = 1_700_000_000_000_000
    for i in range(100):
        lines.append(f"ex,AAA,{t},{t},true,bid,{1000 - i * 0.5},{1 + i % 7}")
        lines.append(f"ex,AAA,{t},{t},true,ask,{1000.5 + i * 0.5},{1 + i % 5}")
    for _ in range(messages):
        t += int(rng.integers(1, 2000))
        for _ in range(int(rng.integers(1, 5))):
            side = "bid" if rng.random() < 0.5 else "ask"
            off = int(rng.integers(0, 150))
            price = 999.5 - off * 0.5 if side == "bid" else 1001.0 + off * 0.5
            amount = 0 if rng.random() < 0.2 else round(float(rng.random() * 9), 3)
            lines.append(f"ex,AAA,{t},{t},false,{side},{price},{amount}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _spawn(path: Path, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(path), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _result(proc: subprocess.Popen[str]) -> dict:
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def _temporaries(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".tmp-")]


def test_processes_opening_one_fresh_file_build_once_and_map(tmp_path: Path) -> None:
    path = write_book(tmp_path / "book.csv")
    procs = [_spawn(path, "open") for _ in range(3)]
    results = [_result(p) for p in procs]
    assert [r["cache_state"] for r in results].count("built") == 1  # one converted, others mapped
    assert sum(r["indexed_here"] for r in results) == 1  # one indexed, the others mapped it
    assert all(r["persistent"] for r in results)  # nobody fell back to a private index
    first = results[0]
    assert all(r["groups"] == first["groups"] and r["best"] == first["best"] for r in results)
    assert all(r["bids"] == first["bids"] for r in results)
    assert _temporaries(cache_dir()) == []


@pytest.mark.parametrize("phase", ["ingest", "index"])
def test_build_killed_midway_leaves_no_orphan_and_the_next_open_rebuilds(tmp_path: Path, phase: str) -> None:
    path = write_book(tmp_path / "book.csv")
    proc = _spawn(path, f"hang-{phase}")
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "MIDWAY", proc.stderr.read() if proc.stderr else ""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    root = cache_dir()
    assert _temporaries(root), "the killed build left nothing half-written to clean up"
    after = _result(_spawn(path, "open"))
    assert after["persistent"]
    assert _temporaries(root) == []  # the next open removed what the killed build left
    # The rebuilt book equals one built without the cache.
    (inst,) = build_instruments(open_sources(path, use_cache=False))
    assert inst.book is not None
    inst.book.run_to_end()
    assert after["groups"] == inst.book.n_groups
    assert after["bids"] == inst.book.book.levels(1, 50).tolist()
    assert after["best"] == [list(inst.book.book.best_bid() or ()), list(inst.book.book.best_ask() or ())]


def test_a_killed_conversion_is_not_counted_by_cache_list(tmp_path: Path) -> None:
    path = write_book(tmp_path / "book.csv")
    proc = _spawn(path, "hang-ingest")
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "MIDWAY"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert _temporaries(cache_dir())
    assert sum(i.size for i in cache_admin.list_items()) == 0


def test_open_works_without_posix_fallocate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """macOS and Windows have no ``os.posix_fallocate``: a free-space check is used instead."""
    monkeypatch.delattr(os, "posix_fallocate", raising=False)
    path = write_book(tmp_path / "book.csv", messages=500)
    (inst,) = build_instruments(open_sources(path))
    assert inst.index_folder is not None
    assert inst.book is not None
    inst.book.run_to_end()
    assert inst.book.book.best_bid() is not None


def test_no_room_without_fallocate_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "posix_fallocate", raising=False)
    target = tmp_path / "sub" / "a.npy"
    target.parent.mkdir()
    target.write_bytes(b"\0" * 4096)

    class Usage:
        free = 100

    monkeypatch.setattr(space.shutil, "disk_usage", lambda _p: Usage())
    with pytest.raises(OSError, match="no room") as info:
        space.reserve(target)
    assert info.value.errno == errno.ENOSPC


@pytest.mark.parametrize("code", [errno.EOPNOTSUPP, errno.EINVAL])
def test_filesystem_without_fallocate_is_not_no_room(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    def refuse(fd: int, offset: int, length: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "posix_fallocate", refuse, raising=False)
    target = tmp_path / "a.npy"
    target.write_bytes(b"\0" * 4096)
    space.reserve(target)  # falls back to the free-space check, which passes


def test_a_full_disk_is_no_room(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full, raising=False)
    target = tmp_path / "sub" / "a.npy"
    target.parent.mkdir()
    target.write_bytes(b"\0" * 4096)
    with pytest.raises(OSError, match="no room"):
        space.reserve(target)
