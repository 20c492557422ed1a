"""Write a source's normalized table to Parquet or Arrow IPC, readable back by the readers."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from replayterm.core.data.columnar_source import META_DEPTH, META_KIND
from replayterm.core.data.model import Source
from replayterm.core.data.postgres.query import is_query_path

FORMATS = ("parquet", "arrow")
_SUFFIXES = (".gz", ".csv", ".parquet", ".arrow", ".feather", ".ipc")


def output_name(source: Source, several: bool, fmt: str) -> str:
    """``<input stem>[_<symbol>].<fmt>``; the symbol is added when a file held several."""
    stem = source.path.name
    if is_query_path(source.path):  # a database query: "DB?table=T&symbol=S" -> "DB_table_T_symbol_S"
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem.replace("=", "_")).strip("_")
    while stem.lower().endswith(_SUFFIXES):
        stem = stem[: stem.rfind(".")]
    if several:
        stem += "_" + re.sub(r"[^A-Za-z0-9._-]+", "-", f"{source.exchange}_{source.symbol}")
    return f"{stem}.{fmt}"


def write_source(source: Source, target: Path, fmt: str) -> None:
    """Write atomically (temporary name, then rename); type and depth go in the schema metadata."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    meta = {META_KIND: source.kind.value.encode()}
    if source.snapshot_depth is not None:
        meta[META_DEPTH] = str(source.snapshot_depth).encode()
    table = source.table.replace_schema_metadata(meta)
    if source.receive_fixes[0].size:  # write the receive times the file had, not the clamped ones
        index = table.schema.get_field_index("local_ts")
        table = table.set_column(index, table.schema.field(index), pa.array(source.receive_ts()))
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        if fmt == "parquet":
            pq.write_table(table, str(tmp), compression="zstd")
        else:
            with pa.OSFile(str(tmp), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
