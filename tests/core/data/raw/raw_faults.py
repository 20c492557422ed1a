"""Faults injected into a copy of the shared hftbacktest collector capture (issue 22's tests and
the screenshot script): each returns the capture's lines with one kind of damage, plus the line
index where the damage is (so a test can say where the gap must be)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

CAPTURE = "binance-futures/raw/btcusdt_20240718.gz"


def read_lines(path: Path) -> list[bytes]:
    with gzip.open(path, "rb") as f:
        return f.read().splitlines()


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n", compresslevel=1))
    return path


def _depth_indices(lines: list[bytes]) -> list[int]:
    return [i for i, line in enumerate(lines) if b"@depth@" in line[:80]]


def snapshot_index(lines: list[bytes]) -> int:
    return next(i for i, line in enumerate(lines) if b'"lastUpdateId"' in line[:60])


def depth_after_snapshot(lines: list[bytes], k: int) -> int:
    """The index of the ``k``-th depth message after the REST snapshot."""
    snap = snapshot_index(lines)
    return [i for i in _depth_indices(lines) if i > snap][k]


def dropped(lines: list[bytes], k: int = 200) -> tuple[list[bytes], int]:
    i = depth_after_snapshot(lines, k)
    return lines[:i] + lines[i + 1 :], i


def duplicated(lines: list[bytes], k: int = 200) -> tuple[list[bytes], int]:
    i = depth_after_snapshot(lines, k)
    return [*lines[: i + 1], lines[i], *lines[i + 1 :]], i


def reordered(lines: list[bytes], k: int = 200) -> tuple[list[bytes], int]:
    i = depth_after_snapshot(lines, k)
    j = depth_after_snapshot(lines, k + 1)
    out = list(lines)
    out[i], out[j] = lines[j], lines[i]
    return out, i


def truncated(lines: list[bytes], k: int = 200) -> tuple[list[bytes], int]:
    i = depth_after_snapshot(lines, k)
    out = list(lines)
    out[i] = lines[i][: len(lines[i]) // 2]
    return out, i


def old_snapshot(lines: list[bytes]) -> tuple[list[bytes], int]:
    """The REST snapshot is older than the stream: its lastUpdateId precedes every update kept."""
    s = snapshot_index(lines)
    head, _, body = lines[s].partition(b" ")
    snap = json.loads(body)
    first_u = min(json.loads(lines[i].partition(b" ")[2])["data"]["U"] for i in _depth_indices(lines))
    snap["lastUpdateId"] = first_u - 1000
    out = list(lines)
    out[s] = head + b" " + json.dumps(snap).encode()
    return out, s


def no_snapshot(lines: list[bytes]) -> tuple[list[bytes], int]:
    s = snapshot_index(lines)
    return lines[:s] + lines[s + 1 :], s


def with_resync(lines: list[bytes], at: int, snapshot: dict) -> list[bytes]:
    """Insert a REST snapshot line right after line ``at`` (received just after it)."""
    ns = int(lines[at].partition(b" ")[0]) + 1
    return [*lines[: at + 1], str(ns).encode() + b" " + json.dumps(snapshot).encode(), *lines[at + 1 :]]
