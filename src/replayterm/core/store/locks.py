"""One inter-process lock per cache entry or index folder (the ``filelock`` package).

The process holding an entry's lock is its only writer: it checks what is stored, builds what is
missing and commits it, while every other process opening the same data waits for the lock and
then maps the committed result. Because the holder is the only writer, anything temporary that
belongs to the entry and exists while one holds its lock was left by a build that died (SIGKILL,
power loss) and is removed (``clear_leftovers``): no age rule.

The lock files live beside what they protect and are never deleted while in use. A lock is held
at most once per process: a second open of the same entry in the process that is still building
it does not wait for itself (``acquire`` returns None and the caller builds privately).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock, Timeout

from replayterm.core.data.progress import Cancelled

WAIT_STEP_S = 0.1
_held: set[str] = set()
_held_guard = threading.Lock()


class EntryLock:
    """A held lock on ``path`` (a lock file); ``release`` is idempotent and also runs when the
    object is garbage-collected (an index job dropped without commit or discard)."""

    def __init__(self, path: Path, lock: FileLock) -> None:
        self.path = path
        self._lock = lock
        self._finalizer = weakref.finalize(self, _release, str(path), lock)

    @property
    def held(self) -> bool:
        return self._finalizer.alive

    def release(self) -> None:
        self._finalizer()


def _release(key: str, lock: FileLock) -> None:
    try:
        lock.release(force=True)
    finally:
        with _held_guard:
            _held.discard(key)


def lock_path_for(target: Path) -> Path:
    """The lock file of an entry or folder: a hidden sibling named after it."""
    return target.parent / f".{target.name}.lock"


def held_here(lock_file: Path) -> bool:
    with _held_guard:
        return str(lock_file) in _held


def acquire(
    lock_file: Path,
    *,
    cancel: Callable[[], bool] | None = None,
    waiting: Callable[[], object] | None = None,
    timeout_s: float | None = None,
) -> EntryLock | None:
    """Wait for the lock (polling ``cancel``; ``waiting()`` is called once when another process
    holds it). None when this process already holds it. Raises ``Cancelled`` or ``TimeoutError``."""
    key = str(lock_file)
    with _held_guard:
        if key in _held:
            return None
        _held.add(key)
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(key, thread_local=False)
        told = False
        start = time.monotonic()
        while True:
            try:
                lock.acquire(timeout=WAIT_STEP_S)
                break
            except Timeout:
                if cancel is not None and cancel():
                    raise Cancelled(f"stopped waiting for {lock_file.name}") from None
                if timeout_s is not None and time.monotonic() - start > timeout_s:
                    raise TimeoutError(f"another process holds {lock_file}") from None
                if not told and waiting is not None:
                    waiting()
                    told = True
    except BaseException:
        with _held_guard:
            _held.discard(key)
        raise
    return EntryLock(lock_file, lock)


def clear_leftovers(folder: Path, prefix: str, keep: Path | None = None) -> None:
    """Remove build leftovers ``prefix*`` in ``folder`` (call only while holding the lock that
    covers them): temporary files or folders of a build that died."""
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if not path.name.startswith(prefix) or path == keep or path.name.endswith(".lock"):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(path)
