"""Managing the cache folder: list entries, clear them, and keep the folder under a size cap.

An item is either one file's entry (every path in the cache root starting with its stem
``<path-hash>-<state-hash>``: table, metadata, raw receive times, the ``.d/`` folder of derived
files, temporary files) or one ``sets/<hash>/`` folder (data derived from several entries). Last
use is the mtime of the entry's ``.json`` (touched on every open) or the newest mtime in a set's
folder. After each new entry the least recently used items are removed until the folder is under
the cap; items opened by this process are never removed (their files may be memory-mapped).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from replayterm.core.data.cache import LOCKS, cache_dir, remove_path
from replayterm.core.store.locks import held_here

ENV_CAP = "REPLAYTERM_CACHE_MAX_GB"
DEFAULT_CAP_GB = 50.0
SETS = "sets"

_in_use: set[str] = set()
_cap_gb: float | None = None


def mark_in_use(name: str) -> None:
    """Never evict the item with this stem (or ``sets/<hash>`` name) in this process."""
    _in_use.add(name)


def set_cap_gb(gb: float | None) -> None:
    """The cap chosen in the app's settings (None: use ``REPLAYTERM_CACHE_MAX_GB`` or the default)."""
    global _cap_gb
    _cap_gb = gb


def cap_bytes() -> int | None:
    """The size cap in bytes; None when there is no cap (0 or a negative number)."""
    gb = _cap_gb
    if gb is None:
        try:
            gb = float(os.environ.get(ENV_CAP, DEFAULT_CAP_GB))
        except ValueError:
            gb = DEFAULT_CAP_GB
    return int(gb * 1e9) if gb > 0 else None


@dataclass
class CacheItem:
    """One entry (or one set folder) of the cache and what it occupies."""

    name: str  # the entry's stem, or "sets/<hash>"
    paths: list[Path] = field(default_factory=list)
    size: int = 0
    last_use: float = 0.0
    source: str | None = None
    kind: str | None = None
    rows: int | None = None
    complete: bool = False  # has its metadata (an entry) or is a set

    @property
    def is_set(self) -> bool:
        return self.name.startswith(f"{SETS}/")

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "kind": "set" if self.is_set else self.kind,
            "rows": self.rows,
            "bytes": self.size,
            "last_use": self.last_use,
            "complete": self.complete,
        }


def _tree_size(path: Path) -> tuple[int, float]:
    """Bytes under ``path`` and the newest mtime seen."""
    try:
        st = path.lstat()
    except OSError:
        return 0, 0.0
    if not path.is_dir() or path.is_symlink():
        return st.st_size, st.st_mtime
    size, newest = 0, st.st_mtime
    for dirpath, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith(".tmp-")]  # index builds in progress or dead
        for name in files:
            try:
                fst = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            size += fst.st_size
            newest = max(newest, fst.st_mtime)
    return size, newest


def list_items(root: Path | None = None) -> list[CacheItem]:
    """Every entry and set in the cache folder, least recently used first."""
    root = root or cache_dir()
    if not root.is_dir():
        return []
    items: dict[str, CacheItem] = {}
    for path in root.iterdir():
        if path.name == LOCKS:
            continue
        if path.name == SETS and path.is_dir():
            for folder in path.iterdir():
                size, newest = _tree_size(folder)
                items[f"{SETS}/{folder.name}"] = CacheItem(
                    f"{SETS}/{folder.name}", [folder], size, newest, complete=True
                )
            continue
        stem = path.name.split(".", 1)[0]
        item = items.setdefault(stem, CacheItem(stem))
        item.paths.append(path)
        size, newest = _tree_size(path)
        if path.name.endswith(".tmp"):
            # a file being written, or left by a build that died (the next open of the file
            # removes it): removed with the entry, never counted as part of it
            size = 0
        item.size += size
        if path.name == f"{stem}.json":
            item.complete = True
            item.last_use = newest
            try:
                meta = json.loads(path.read_text("utf-8"))
                item.source, item.kind, item.rows = meta.get("source"), meta.get("kind"), meta.get("rows")
            except (OSError, ValueError):
                item.complete = False
        elif not item.complete:
            item.last_use = max(item.last_use, newest)
    return sorted(items.values(), key=lambda i: (i.last_use, i.name))


def remove_item(item: CacheItem, root: Path | None = None) -> None:
    # The metadata goes first: a half-removed entry is then simply not an entry any more.
    for path in sorted(item.paths, key=lambda p: not p.name.endswith(".json")):
        remove_path(path)
    if not item.is_set:
        _drop_lock_file((root or cache_dir()) / LOCKS / f"{item.name}.lock")


def _drop_lock_file(path: Path) -> None:
    """Delete an entry's lock file unless a process holds it (one converting the file now)."""
    if not path.exists():
        return
    lock = FileLock(str(path), thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return
    try:
        path.unlink(missing_ok=True)
    finally:
        lock.release()
    with contextlib.suppress(OSError):
        path.parent.rmdir()  # only when it is empty


def _being_written(item: CacheItem, root: Path) -> bool:
    """A process holds the entry's lock: its temporary files are a conversion in progress."""
    lock_file = root / LOCKS / f"{item.name}.lock"
    if held_here(lock_file):
        return True
    if not lock_file.exists():
        return False
    lock = FileLock(str(lock_file), thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False


def _removable(item: CacheItem, protect: Iterable[str], root: Path) -> bool:
    if item.name in _in_use or item.name in protect:
        return False
    # An entry without metadata is a conversion in progress (its lock is held) or the leftovers
    # of one that died (nobody holds it).
    return item.complete or item.is_set or not _being_written(item, root)


def clear(
    older_than_s: float | None = None, root: Path | None = None, protect: Iterable[str] = ()
) -> list[CacheItem]:
    """Remove every item (or those unused for ``older_than_s`` seconds); return what was removed."""
    now = time.time()
    root = root or cache_dir()
    protected = set(protect)
    removed = []
    for item in list_items(root):
        if older_than_s is not None and now - item.last_use < older_than_s:
            continue
        if not _removable(item, protected, root):
            continue
        remove_item(item, root)
        removed.append(item)
    return removed


def evict(root: Path | None = None, cap: int | None = None, protect: Iterable[str] = ()) -> list[CacheItem]:
    """Remove least recently used items until the folder holds at most ``cap`` bytes."""
    cap = cap_bytes() if cap is None else cap
    if cap is None:
        return []
    root = root or cache_dir()
    items = list_items(root)
    total = sum(i.size for i in items)
    protected = set(protect)
    removed = []
    for item in items:
        if total <= cap:
            break
        if not _removable(item, protected, root):
            continue
        remove_item(item, root)
        removed.append(item)
        total -= item.size
    return removed
