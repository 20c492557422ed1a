"""Arrow IPC cache of normalized tables: built once per file, then memory-mapped (zero copy).

An entry is ``<path-hash>-<state-hash>.arrow`` plus a ``.json`` sidecar holding what the reader
learnt (type, symbols, row groups, warnings) and what to validate (row and batch counts, byte
size). The state hash covers the absolute path, size, mtime and ``FORMAT_VERSION``, so a changed
file gets a new entry and older entries of the same path are deleted. Both files are written to
temporary names and renamed into place. An entry that fails validation is deleted and rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import platformdirs
import pyarrow as pa
import pyarrow.ipc as ipc

from replayterm.core.data.model import SCHEMAS, Kind

FORMAT_VERSION = 1
ENV_DIR = "REPLAYTERM_CACHE_DIR"


def cache_dir() -> Path:
    override = os.environ.get(ENV_DIR)
    return Path(override) if override else Path(platformdirs.user_cache_dir("replayterm")) / "tables"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:20]


class CacheEntry:
    """The cache slot of one input file in its current state."""

    def __init__(self, path: Path, root: Path | None = None) -> None:
        resolved = path.resolve()
        st = resolved.stat()
        self.source = resolved
        self.state = (st.st_size, st.st_mtime_ns)
        self.root = root or cache_dir()
        self.prefix = _digest(str(resolved))
        state = _digest(f"{resolved}|{st.st_size}|{st.st_mtime_ns}|{FORMAT_VERSION}")
        self.data = self.root / f"{self.prefix}-{state}.arrow"
        self.meta = self.root / f"{self.prefix}-{state}.json"

    @property
    def derived_dir(self) -> Path:
        """``{stem}.d/``: files derived from this entry (book indexes, checkpoints), see CONTRACTS."""
        return self.data.with_suffix(".d")

    def load(self) -> tuple[pa.Table, dict[str, Any]] | None:
        """The cached table (memory-mapped) and its metadata, or None if absent or invalid."""
        if not self.meta.exists() or not self.data.exists():
            return None
        try:
            meta = json.loads(self.meta.read_text("utf-8"))
            if meta.get("version") != FORMAT_VERSION or self.data.stat().st_size != meta["bytes"]:
                raise ValueError("stale or mismatched entry")
            reader = ipc.open_file(pa.memory_map(str(self.data), "r"))
            if not reader.schema.equals(SCHEMAS[Kind(meta["kind"])], check_metadata=False):
                raise ValueError("schema differs")
            if reader.num_record_batches != meta["batches"]:
                raise ValueError("batch count differs")
            table = reader.read_all()
            table.validate()
            if table.num_rows != meta["rows"] or not _groups_cover(meta["groups"], meta["rows"]):
                raise ValueError("row count differs")
            return table, meta
        except Exception:  # any damage at all: drop the entry, the caller rebuilds it
            self.remove()
            return None

    def still_current(self) -> bool:
        """The input file was not changed while it was being read."""
        try:
            st = self.source.stat()
        except OSError:
            return False
        return (st.st_size, st.st_mtime_ns) == self.state

    def remove(self) -> None:
        for path in (self.data, self.meta):
            path.unlink(missing_ok=True)
        shutil.rmtree(self.derived_dir, ignore_errors=True)

    def writer(self, schema: pa.Schema) -> CacheWriter:
        return CacheWriter(self, schema)


def _groups_cover(groups: list[dict[str, Any]], rows: int) -> bool:
    """The recorded symbol groups are well-formed and tile the table exactly."""
    position = 0
    for g in groups:
        if not (isinstance(g["exchange"], str) and isinstance(g["symbol"], str)):
            return False
        if not (isinstance(g["unsorted_rows"], int) and all(isinstance(w, str) for w in g["warnings"])):
            return False
        if g["start"] != position or not isinstance(g["length"], int) or g["length"] < 0:
            return False
        position += g["length"]
    return position == rows


class CacheWriter:
    """Writes an entry batch by batch to a temporary file; ``commit`` makes it visible."""

    def __init__(self, entry: CacheEntry, schema: pa.Schema) -> None:
        self.entry = entry
        self.schema = schema
        self.tmp = entry.data.with_name(f"{entry.data.name}.{uuid.uuid4().hex}.tmp")
        self._sink: pa.NativeFile | None = None
        self._writer: ipc.RecordBatchFileWriter | None = None
        self.batches = 0

    def _open(self) -> ipc.RecordBatchFileWriter:
        if self._writer is None:
            self.entry.root.mkdir(parents=True, exist_ok=True)
            self._sink = pa.OSFile(str(self.tmp), "wb")
            self._writer = ipc.new_file(self._sink, self.schema)
        return self._writer

    def write(self, batch: pa.RecordBatch) -> None:
        self._open().write_batch(batch)
        self.batches += 1

    def write_table(self, table: pa.Table) -> None:
        for batch in table.to_batches():
            self.write(batch)

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._sink is not None:
            self._sink.close()
            self._sink = None

    def restart(self) -> None:
        """Forget what was written (the rows will come again in another order)."""
        self.discard()
        self.batches = 0

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._close()
        with contextlib.suppress(OSError):
            self.tmp.unlink(missing_ok=True)

    def commit(self, rows: int, meta: dict[str, Any]) -> None:
        self._open()
        self._close()
        full = {**meta, "version": FORMAT_VERSION, "rows": rows, "batches": self.batches}
        full["bytes"] = self.tmp.stat().st_size
        meta_tmp = self.entry.meta.with_name(f"{self.entry.meta.name}.{uuid.uuid4().hex}.tmp")
        meta_tmp.write_text(json.dumps(full), "utf-8")
        os.replace(self.tmp, self.entry.data)
        os.replace(meta_tmp, self.entry.meta)
        for old in self.entry.root.glob(f"{self.entry.prefix}-*"):
            keep = (self.entry.data, self.entry.meta, self.entry.derived_dir)
            if old not in keep and not old.name.endswith(".tmp"):
                if old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    old.unlink(missing_ok=True)
