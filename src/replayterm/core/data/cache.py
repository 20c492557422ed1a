"""Arrow IPC cache of normalized tables: built once per file, then memory-mapped (zero copy).

An entry is everything in the cache root whose name starts with its stem
``<path-hash>-<state-hash>``: the ``.arrow`` table, the ``.json`` sidecar holding what the reader
learnt (type, symbols, groups, warnings) and what to validate (row and batch counts, byte size),
an optional ``.recv.arrow`` with the raw receive times of rows whose time was clamped, and the
``.d/`` folder of files derived from it (message index, checkpoints...). The state hash covers the
absolute path, size, mtime and ``FORMAT_VERSION`` (for a database source: the query without its
password, see ``postgres.query``), so a changed file gets a new entry and older
entries of the same path are deleted. Files are written to temporary names and renamed into
place, while the process converting the file holds the entry's lock (``lock_file``): others
wait, then map what it committed. An entry that fails validation is rebuilt over. Opening an entry touches its
``.json``: that mtime is the entry's last use (see ``cache_admin``).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs
import pyarrow as pa
import pyarrow.ipc as ipc

from replayterm.core.data.model import SCHEMAS, Kind
from replayterm.core.data.postgres.query import is_query_path
from replayterm.core.errors import DataError

# 2: rows keep file order, local_ts is the running maximum, raw receive times in .recv.arrow.
FORMAT_VERSION = 2
ENV_DIR = "REPLAYTERM_CACHE_DIR"
LOCKS = ".locks"  # the entries' lock files (never counted as entries, never evicted)
RECEIVE_SCHEMA = pa.schema([("group", pa.int32()), ("row", pa.int64()), ("local_ts_raw", pa.int64())])


def cache_dir() -> Path:
    override = os.environ.get(ENV_DIR)
    return Path(override) if override else Path(platformdirs.user_cache_dir("replayterm")) / "tables"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:20]


def remove_path(path: Path) -> None:
    """Delete a file or a whole folder; missing is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def human_bytes(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if abs(size) < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def disk_full_error(source: Path, root: Path, needed: int) -> DataError:
    """The message for a cache folder that ran out of space while converting ``source``."""
    try:
        free = shutil.disk_usage(root if root.exists() else root.parent).free
    except OSError:
        free = 0
    return DataError(
        source,
        f"not enough disk space in the cache folder {root}: converting this file needs about "
        f"{human_bytes(needed)} and {human_bytes(free)} is free; nothing was cached",
        hint=(
            "Free some space (for example 'replayterm cache clear'), lower the cache size cap "
            f"(REPLAYTERM_CACHE_MAX_GB), or set {ENV_DIR} to a folder on a larger disk, then open the "
            "file again"
        ),
    )


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(exc, pa.ArrowException) and "No space left on device" in str(exc)


class CacheEntry:
    """The cache slot of one input file in its current state."""

    def __init__(self, path: Path, root: Path | None = None) -> None:
        self.root = root or cache_dir()
        self.state: tuple[int, int] | None
        if is_query_path(path):  # a database query: the key is the query, rows never change under it
            self.source = path
            self.state = None
            self.prefix = _digest(str(path))
            state = _digest(f"{path}|{FORMAT_VERSION}")
        else:
            resolved = path.resolve()
            st = resolved.stat()
            self.source = resolved
            self.state = (st.st_size, st.st_mtime_ns)
            self.prefix = _digest(str(resolved))
            state = _digest(f"{resolved}|{st.st_size}|{st.st_mtime_ns}|{FORMAT_VERSION}")
        self.stem = f"{self.prefix}-{state}"
        self.data = self.root / f"{self.stem}.arrow"
        self.meta = self.root / f"{self.stem}.json"
        self.receive = self.root / f"{self.stem}.recv.arrow"

    @property
    def derived_dir(self) -> Path:
        """Where files derived from this entry live; removed together with the entry."""
        return self.root / f"{self.stem}.d"

    def load(self) -> tuple[pa.Table, dict[str, Any]] | None:
        """The cached table (memory-mapped) and its metadata, or None if absent or unusable.

        Only an entry of another format version is deleted here; a damaged or unreadable one
        (a failed read, EMFILE) is left as it is: the caller rebuilds it while holding the
        entry's lock, and the commit replaces it."""
        if not self.meta.exists() or not self.data.exists():
            return None
        try:
            meta = json.loads(self.meta.read_text("utf-8"))
            if not isinstance(meta, dict):
                return None
            if meta.get("version") != FORMAT_VERSION:
                self.remove()
                return None
            if self.data.stat().st_size != meta["bytes"]:
                raise ValueError("size differs")
            reader = ipc.open_file(pa.memory_map(str(self.data), "r"))
            if not reader.schema.equals(SCHEMAS[Kind(meta["kind"])], check_metadata=False):
                raise ValueError("schema differs")
            if reader.num_record_batches != meta["batches"]:
                raise ValueError("batch count differs")
            table = reader.read_all()
            table.validate()
            if table.num_rows != meta["rows"] or not _groups_cover(meta["groups"], meta["rows"]):
                raise ValueError("row count differs")
            if sum(g["clamped_rows"] for g in meta["groups"]) and not self.receive.exists():
                raise ValueError("raw receive times missing")
            self.touch()
            return table, meta
        except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
            return None

    @property
    def lock_file(self) -> Path:
        """The inter-process lock of this entry (``store.locks``): its holder is the only writer."""
        return self.root / LOCKS / f"{self.stem}.lock"

    def clear_leftovers(self) -> None:
        """Remove temporary files of this entry left by a build that died (SIGKILL midway); call
        only while holding ``lock_file``, when no build of this entry can be running."""
        for path in self.root.glob(f"{self.stem}*.tmp"):
            remove_path(path)

    def receive_times(self, group: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows within the group, raw local_timestamp) of the group's clamped rows."""
        if not self.receive.exists():
            return _NO_FIXES
        table = ipc.open_file(pa.memory_map(str(self.receive), "r")).read_all()
        groups = table.column("group").to_numpy()
        mask = groups == group
        return table.column("row").to_numpy()[mask], table.column("local_ts_raw").to_numpy()[mask]

    def touch(self) -> None:
        with contextlib.suppress(OSError):
            os.utime(self.meta)

    def still_current(self) -> bool:
        """The input file was not changed while it was being read."""
        if self.state is None:
            return True
        try:
            st = self.source.stat()
        except OSError:
            return False
        return (st.st_size, st.st_mtime_ns) == self.state

    def remove(self) -> None:
        for path in self.root.glob(f"{self.stem}*"):
            remove_path(path)

    def remove_older(self) -> None:
        """Delete every other entry of the same input path (older states, older formats)."""
        for old in self.root.glob(f"{self.prefix}-*"):
            if not old.name.startswith(self.stem) and ".tmp" not in old.name:
                remove_path(old)

    def writable(self) -> None:
        """Raise OSError if the cache folder cannot take a new file."""
        self.root.mkdir(parents=True, exist_ok=True)
        probe = self.root / f"{self.stem}.{uuid.uuid4().hex}.tmp"
        probe.write_bytes(b"")
        probe.unlink()

    def temp_path(self, suffix: str) -> Path:
        return self.root / f"{self.stem}{suffix}.{uuid.uuid4().hex}.tmp"


_NO_FIXES = (np.zeros(0, np.int64), np.zeros(0, np.int64))


def _groups_cover(groups: list[dict[str, Any]], rows: int) -> bool:
    """The recorded symbol groups are well-formed and tile the table exactly."""
    position = 0
    for g in groups:
        if not (isinstance(g["exchange"], str) and isinstance(g["symbol"], str)):
            return False
        if not (isinstance(g["clamped_rows"], int) and all(isinstance(w, str) for w in g["warnings"])):
            return False
        if g["start"] != position or not isinstance(g["length"], int) or g["length"] < 0:
            return False
        position += g["length"]
    return position == rows


class IpcFileWriter:
    """One Arrow IPC file written batch by batch; counts batches and bytes."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.schema = schema
        self._sink: pa.NativeFile | None = pa.OSFile(str(path), "wb")
        self._writer: ipc.RecordBatchFileWriter | None = ipc.new_file(self._sink, schema)
        self.batches = 0
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        assert self._writer is not None
        self._writer.write_batch(batch)
        self.batches += 1
        self.rows += batch.num_rows

    def bytes_written(self) -> int:
        return self._sink.tell() if self._sink is not None else self.path.stat().st_size

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._sink is not None:
            self._sink.close()
            self._sink = None

    def discard(self) -> None:
        with contextlib.suppress(OSError, pa.ArrowException):
            self.close()
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)


def commit_entry(
    entry: CacheEntry, table_file: Path, receive_file: Path | None, meta: dict[str, Any], batches: int
) -> None:
    """Rename a finished table (and raw receive times) into place, then write the metadata."""
    rows = sum(g["length"] for g in meta["groups"])
    full = {**meta, "version": FORMAT_VERSION, "rows": rows, "batches": batches}
    full["bytes"] = table_file.stat().st_size
    meta_tmp = entry.temp_path(".json")
    try:
        meta_tmp.write_text(json.dumps(full), "utf-8")
        # The entry's derived folder stays: the stem already names this exact state of the input,
        # so an index derived from an earlier build of it is an index of the same rows; another
        # process (a sweep worker opening the same file) may be building it right now. A damaged
        # entry's derived files went with it in ``remove``.
        if receive_file is not None:
            os.replace(receive_file, entry.receive)
        else:
            entry.receive.unlink(missing_ok=True)
        os.replace(table_file, entry.data)
        os.replace(meta_tmp, entry.meta)  # last: the entry exists only once this is in place
    finally:
        meta_tmp.unlink(missing_ok=True)
    entry.remove_older()
