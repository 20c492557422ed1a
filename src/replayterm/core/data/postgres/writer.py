"""Opened sources -> Tardis-shaped PostgreSQL tables, written with COPY (ADBC's bulk ingest).

A table holds one data type: Tardis's columns and names (``exchange, symbol, timestamp,
local_timestamp, …``, times as bigint µs, sides as text) plus ``seq``, the row's position in the
input (files in argument order, rows in file order), so that a read orders by ``seq`` and gets the
rows back in arrival order whatever the clock did. ``local_timestamp`` is the receive time the file
had (a clamped row gets its own time back). With the TimescaleDB extension the table becomes a
hypertable on ``local_timestamp`` (one chunk per day) before any row is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from replayterm.core.data.layout import COMMON, SPECIFIC
from replayterm.core.data.model import Kind, Source
from replayterm.core.data.postgres.connect import (
    connection,
    database_error,
    has_timescale,
    ident,
    literal,
    table_columns,
)
from replayterm.core.data.postgres.query import redact
from replayterm.core.errors import DataError

BATCH_ROWS = 1 << 17
DAY_US = 86_400_000_000
IF_EXISTS = ("fail", "replace", "append")

_SQL_TYPES = {
    "exchange": "text",
    "symbol": "text",
    "timestamp": "bigint",
    "local_timestamp": "bigint",
    "funding_timestamp": "bigint",
    "is_snapshot": "boolean",
    "side": "text",
    "id": "text",
}
_BOOK_SIDES = {1: "bid", -1: "ask"}
_TRADE_SIDES = {1: "buy", -1: "sell", 0: "unknown"}


@dataclass
class Written:
    table: str
    kind: Kind
    rows: int
    hypertable: bool


def table_kind(source: Source) -> Kind:
    """book_snapshot_N sources are stored as the book rows they are normalized to."""
    return Kind.BOOK if source.kind is Kind.BOOK_SNAPSHOT else source.kind


def tardis_columns(kind: Kind) -> tuple[str, ...]:
    return (*COMMON, *SPECIFIC[kind], "seq")


def table_names(sources: Sequence[Source], name: str) -> dict[Kind, str]:
    """NAME when the sources hold one data type, else NAME_<type> for each."""
    kinds = list(dict.fromkeys(table_kind(s) for s in sources))
    if len(kinds) == 1:
        return {kinds[0]: name}
    return {k: f"{name}_{k.value}" for k in kinds}


def _schema(kind: Kind) -> pa.Schema:
    fields = []
    for column in tardis_columns(kind):
        sql = _SQL_TYPES.get(column, "double precision")
        arrow = {"text": pa.string(), "bigint": pa.int64(), "boolean": pa.bool_()}.get(sql, pa.float64())
        fields.append(pa.field("seq" if column == "seq" else column, arrow))
    return pa.schema(fields)


def _sides(values: pa.Array, names: dict[int, str]) -> pa.Array:
    codes = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.int64)
    keys = np.array(sorted(names), dtype=np.int64)
    labels = np.array([names[k] for k in sorted(names)], dtype=object)
    index = np.searchsorted(keys, codes)
    return pa.array(labels[np.clip(index, 0, len(keys) - 1)], pa.string())


def tardis_batches(source: Source, kind: Kind, first_seq: int) -> Iterator[pa.RecordBatch]:
    """The source's rows in Tardis's shape, batch by batch (bounded memory)."""
    schema = _schema(kind)
    receive = source.receive_ts() if source.receive_fixes[0].size else None
    position = 0
    for batch in source.table.to_batches(max_chunksize=BATCH_ROWS):
        n = batch.num_rows
        if n == 0:
            continue
        arrays: list[pa.Array] = []
        for column in schema.names:
            if column in ("exchange", "symbol"):
                arrays.append(pc.cast(batch.column(column), pa.string()))
            elif column == "timestamp":
                arrays.append(batch.column("exch_ts"))
            elif column == "local_timestamp":
                local = batch.column("local_ts")
                arrays.append(local if receive is None else pa.array(receive[position : position + n]))
            elif column == "side":
                names = _BOOK_SIDES if kind is Kind.BOOK else _TRADE_SIDES
                arrays.append(_sides(batch.column("side"), names))
            elif column == "seq":
                arrays.append(
                    pa.array(np.arange(first_seq + position, first_seq + position + n, dtype=np.int64))
                )
            else:
                arrays.append(batch.column(column).cast(schema.field(column).type))
        position += n
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _create(cur: object, table: str, kind: Kind, timescale: bool) -> bool:
    columns = ", ".join(
        f"{ident(c)} {_SQL_TYPES.get(c, 'bigint' if c == 'seq' else 'double precision')} NOT NULL"
        if c in ("exchange", "symbol", "local_timestamp", "seq")
        else f"{ident(c)} {_SQL_TYPES.get(c, 'double precision')}"
        for c in tardis_columns(kind)
    )
    cur.execute(f"CREATE TABLE {ident(table)} ({columns})")  # type: ignore[attr-defined]
    if not timescale:
        return False
    cur.execute(  # type: ignore[attr-defined]
        f"SELECT create_hypertable({literal(table)}, 'local_timestamp', chunk_time_interval => {DAY_US})"
    )
    return True


def write_tables(
    sources: Sequence[Source],
    url: str,
    name: str,
    if_exists: str = "fail",
    progress: Callable[[float, str], None] | None = None,
) -> list[Written]:
    """Write the sources into NAME (or NAME_<type> per type); ``if_exists``: fail, replace, append."""
    if if_exists not in IF_EXISTS:
        raise ValueError(f"if_exists must be one of {', '.join(IF_EXISTS)}")
    shown = redact(url)
    names = table_names(sources, name)
    total = max(sum(s.rows for s in sources), 1)
    done = 0
    written: list[Written] = []
    with connection(url, shown, autocommit=False) as conn:  # all tables or none
        try:
            with conn.cursor() as cur:
                timescale = has_timescale(cur)
                for kind, table in names.items():
                    exists = bool(table_columns(cur, table))
                    if exists and if_exists == "fail":
                        raise DataError(
                            shown,
                            f"table {table} exists already",
                            hint="Choose another --table, or --if-exists replace / append",
                        )
                    if exists and if_exists == "replace":
                        cur.execute(f"DROP TABLE {ident(table)}")
                        exists = False
                    hyper = False if exists else _create(cur, table, kind, timescale)
                    seq = 0
                    if exists:
                        cur.execute(f"SELECT coalesce(max(seq) + 1, 0) FROM {ident(table)}")
                        seq = int(cur.fetchone()[0])
                    rows = 0
                    for source in (s for s in sources if table_kind(s) == kind):
                        stream = pa.RecordBatchReader.from_batches(
                            _schema(kind), tardis_batches(source, kind, seq + rows)
                        )
                        cur.adbc_ingest(table, stream, mode="append")
                        rows += source.rows
                        done += source.rows
                        if progress is not None:
                            progress(done / total, f"writing {table}")
                    cur.execute(
                        f"CREATE INDEX IF NOT EXISTS {ident(table + '_symbol_seq')} "
                        f"ON {ident(table)} (symbol, seq)"
                    )
                    cur.execute(f"ANALYZE {ident(table)}")
                    written.append(Written(table, kind, rows, hyper))
            conn.commit()
        except DataError:
            raise
        except Exception as exc:
            raise database_error(shown, exc, "writing to the database failed") from None
    return written
