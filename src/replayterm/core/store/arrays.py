"""Derived index files: built once in a private folder, renamed into place, mapped afterwards.

An index (one book's message groups, price ranks, top-of-book history and checkpoints, or one
timeline) is a folder of ``.npy`` files plus ``manifest.json``. It is built inside a temporary
folder next to its final place; ``commit`` writes the manifest last and renames the folder, so a
reader sees a complete index or none. ``open_index`` checks the manifest (format version, the
key of the data it was built from, every array's dtype and shape) and maps the arrays read-only;
anything missing or damaged returns None and the caller rebuilds (only another version or key
is deleted). A cancelled or failed build removes its temporary folder; one killed midway leaves
it to the next holder of the index's lock (``store.locks``).

Without a place on disk (``folder=None``) arrays are plain in-memory arrays (small inputs,
tests); with one, they are ``np.memmap`` views whose pages belong to the page cache, not to the
process's anonymous memory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import uuid
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from replayterm.core.store.locks import EntryLock, clear_leftovers
from replayterm.core.store.space import reserve

INDEX_VERSION = 2
MANIFEST = "manifest.json"


class ArrayStore:
    """Where one index's arrays are created while it is being built."""

    def __init__(self, final: Path | None, lock: EntryLock | None = None) -> None:
        """``lock``: the held lock of ``final`` (see ``store.locks``), released at commit or discard."""
        self.final = final
        self.lock = lock
        self.tmp: Path | None = None
        if final is not None:
            final.parent.mkdir(parents=True, exist_ok=True)
            self.tmp = final.parent / f".tmp-{final.name}-{uuid.uuid4().hex[:12]}"
            self.tmp.mkdir()
        self.arrays: dict[str, np.ndarray] = {}
        self._appends: dict[str, _Appender] = {}

    @property
    def on_disk(self) -> bool:
        return self.tmp is not None

    def create(self, name: str, dtype: Any, shape: tuple[int, ...]) -> np.ndarray:
        """A new zero-filled array (a writable map of ``name.npy`` when on disk)."""
        if self.tmp is None:
            arr = np.zeros(shape, dtype=dtype)
        else:
            path = self.tmp / f"{name}.npy"
            arr = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
            reserve(path)
        self.arrays[name] = arr
        return arr

    def appender(self, name: str, dtype: Any, width: int = 0) -> _Appender:
        """A growing array (rows of ``width`` items, or scalars) written to a raw file as it grows."""
        app = _Appender(self, name, np.dtype(dtype), width)
        self._appends[name] = app
        return app

    def commit(self, key: dict[str, Any], meta: dict[str, Any]) -> dict[str, np.ndarray]:
        """Finish appenders, write the manifest and make the index visible; returns the arrays."""
        for app in self._appends.values():
            self.arrays[app.name] = app.finish()
        # No msync here: the page cache writes the files back on its own, and a reader validates
        # every index before using it (a synchronous flush doubled the cost of a first open).
        if self.tmp is None or self.final is None:
            self._unlock()
            return self.arrays
        manifest = {
            "version": INDEX_VERSION,
            "key": key,
            "meta": meta,
            "arrays": {n: [a.dtype.str, list(a.shape)] for n, a in self.arrays.items()},
        }
        (self.tmp / MANIFEST).write_text(json.dumps(manifest), "utf-8")
        if self.final.exists():
            shutil.rmtree(self.final, ignore_errors=True)
        try:
            os.replace(self.tmp, self.final)  # the open maps stay valid: same files, new folder name
        except OSError:
            # Another process (a sweep worker opening the same files) committed this index a
            # moment before: theirs is as good as ours, which stays mapped until released.
            shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp = None
        self._unlock()
        return self.arrays

    def _unlock(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def discard(self) -> None:
        """Drop everything built so far (cancel or failure): no partial index stays behind."""
        for app in self._appends.values():
            app.close()
        self.arrays.clear()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        self._unlock()


class _Appender:
    def __init__(self, store: ArrayStore, name: str, dtype: np.dtype, width: int) -> None:
        self.store, self.name, self.dtype, self.width = store, name, dtype, width
        self.rows = 0
        self._mem: list[np.ndarray] = []
        self._file = None if store.tmp is None else open(store.tmp / f"{name}.raw", "wb")  # noqa: SIM115

    def append(self, values: np.ndarray) -> None:
        arr = np.ascontiguousarray(values, dtype=self.dtype)
        if self._file is None:
            self._mem.append(arr.copy())
        else:
            self._file.write(arr.tobytes())
        self.rows += arr.shape[0] if arr.ndim else 1

    def view(self) -> np.ndarray:
        """What was appended so far, in memory (only used for small appenders while building)."""
        shape = (self.rows, self.width) if self.width else (self.rows,)
        if self._file is None:
            return _joined(self._mem, self.dtype, shape)
        self._file.flush()
        raw = np.fromfile(self._file.name, dtype=self.dtype)
        return raw.reshape(shape)

    def mapped(self) -> np.ndarray:
        """What was appended so far: mapped from the file while building on disk (copy-on-write,
        so it types like the other index arrays), joined in memory otherwise."""
        shape = (self.rows, self.width) if self.width else (self.rows,)
        if self._file is None:
            return _joined(self._mem, self.dtype, shape)
        self._file.flush()
        if self.rows == 0:
            return np.zeros(shape, dtype=self.dtype)
        return np.asarray(np.memmap(self._file.name, dtype=self.dtype, mode="c", shape=shape))

    def finish(self) -> np.ndarray:
        shape = (self.rows, self.width) if self.width else (self.rows,)
        if self._file is None:
            return _joined(self._mem, self.dtype, shape)
        self._file.close()
        raw_path = Path(self._file.name)
        assert self.store.tmp is not None
        out = np.lib.format.open_memmap(
            self.store.tmp / f"{self.name}.npy", mode="w+", dtype=self.dtype, shape=shape
        )
        flat = out.reshape(-1)
        step = 1 << 22
        with raw_path.open("rb") as f:
            for start in range(0, flat.shape[0], step):
                part = np.fromfile(f, dtype=self.dtype, count=min(step, flat.shape[0] - start))
                flat[start : start + part.shape[0]] = part
        out.flush()
        raw_path.unlink()
        return out

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()


def _joined(parts: list[np.ndarray], dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    if not parts:
        return np.zeros(shape, dtype=dtype)
    return np.concatenate([p.reshape(-1) for p in parts]).reshape(shape)


class _MismatchError(ValueError):
    """The stored index is of another format version or of other data: it is deleted."""


def open_index(folder: Path, key: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """The arrays (mapped read-only) and metadata of a committed index, or None if unusable.

    Only an index of another format version or another key is deleted; anything else (a missing
    or unreadable file, EMFILE, a damaged array) just returns None: the caller rebuilds it under
    the entry's lock and its commit replaces the folder, so a reader never deletes what another
    process is building or has just committed.
    """
    try:
        manifest = json.loads((folder / MANIFEST).read_text("utf-8"))
        if not isinstance(manifest, dict):
            return None
        if manifest.get("version") != INDEX_VERSION or manifest.get("key") != key:
            raise _MismatchError("another version or other data")
        arrays: dict[str, np.ndarray] = {}
        for name, (dtype, shape) in manifest["arrays"].items():
            # copy-on-write maps: read like read-only ones (page cache, never anonymous until written),
            # and typed writable, which the compiled kernel expects of its inputs
            arr = np.load(folder / f"{name}.npy", mmap_mode="c", allow_pickle=False)
            if arr.dtype.str != dtype or list(arr.shape) != shape:
                return None
            arrays[name] = arr
        return arrays, manifest["meta"]
    except _MismatchError:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove_stale(folder: Path, prefix: str) -> None:
    """Delete other versions of an index (``prefix`` + anything) and leftovers of killed builds of
    this one. Call only while holding ``folder``'s lock: its temporary build folders can then only
    be leftovers (the holder is the only builder)."""
    if not folder.parent.exists():
        return
    clear_leftovers(folder.parent, f".tmp-{folder.name}-")
    for old in folder.parent.iterdir():
        if old != folder and old.name.startswith(prefix) and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


def scratch_dir(owner: object, prefix: str = "replayterm-index-") -> Path:
    """A private temporary folder removed when ``owner`` is garbage-collected (no cache in use)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    weakref.finalize(owner, shutil.rmtree, str(path), True)
    return path
