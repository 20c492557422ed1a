"""``PostgresReader``: one table (or view, or TimescaleDB hypertable) read like a data file.

It answers the readers' questions (``header``, ``batches``, ``where``) so that ingest puts its rows
through the same normalizer, cache, index and replay as a CSV. Nothing connects until ``header`` is
asked, which ingest does only when the cache has no entry for the query: a reopen never touches
the database. Rows come in one ``SELECT … ORDER BY`` streamed by the driver as Arrow batches.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Generator
from typing import Any

import pyarrow as pa

from replayterm.core.data.columnar_source import _coerce
from replayterm.core.data.layout import Layout
from replayterm.core.data.model import Kind
from replayterm.core.data.normalize import raw_types
from replayterm.core.data.postgres.connect import (
    connect,
    database_error,
    ident,
    literal,
    table_columns,
)
from replayterm.core.data.postgres.query import DatabaseQuery
from replayterm.core.errors import DataError

BATCH_BYTES = 16 << 20
_TIMESTAMPS = ("timestamp with time zone", "timestamp without time zone")
_INTEGERS = ("bigint", "integer", "smallint")
_TEXT = ("text", "character varying", "character")


class PostgresReader:
    file_format = "postgresql"

    def __init__(self, query: DatabaseQuery) -> None:
        self.query = query
        self.path = query.path
        self._conn: Any = None
        self._types: dict[str, str] = {}  # column in the table -> its SQL type
        self._as_tardis: dict[str, str] = {}  # column in the table -> the name the header shows

    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = connect(self.query.conninfo, self.path)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with contextlib.suppress(Exception):  # already broken: nothing more to release
                conn.close()

    def header(self) -> list[str]:
        try:
            with self._connection().cursor() as cur:
                columns = table_columns(cur, self.query.table)
        except DataError:
            raise
        except Exception as exc:
            self.close()
            raise database_error(self.path, exc, "the table's columns cannot be read") from None
        if not columns:
            self.close()
            raise DataError(
                self.path,
                f"no table or view named {self.query.table!r} in this database",
                hint="Check ?table= (schema.table for another schema than the default)",
            )
        self._types = dict(columns)
        renamed = {db: tardis for tardis, db in self.query.columns}
        missing = [db for db in renamed if db not in self._types]
        if missing:
            self.close()
            raise DataError(
                self.path,
                f"the column mapping names {', '.join(missing)}, not a column of {self.query.table}",
                hint=f"The table's columns are: {', '.join(self._types)}",
            )
        self._as_tardis = {db: renamed.get(db, db) for db in self._types}
        return list(self._as_tardis.values())

    def stored_kind(self) -> tuple[Kind | None, int | None]:
        return None, None

    def where(self, row: int, check: Callable[[], None] | None = None) -> tuple[int | None, str]:
        return None, f"row {row + 1} of the query: "

    def _column(self, shown: str) -> str:
        for db, name in self._as_tardis.items():
            if name == shown:
                return db
        return shown

    def _select(self, layout: Layout) -> str:
        types = raw_types(layout)
        parts = []
        for name, shown in zip(layout.columns, layout.file_columns, strict=True):
            db = self._column(shown)
            parts.append(f"{_cast(ident(db), self._types.get(db, ''), types[name], name)} AS {ident(name)}")
        where = []
        if self.query.symbol is not None:
            where.append(f"{ident(self._column('symbol'))} = {literal(self.query.symbol)}")
        if self.query.exchange is not None:
            where.append(f"{ident(self._column('exchange'))} = {literal(self.query.exchange)}")
        local = self._column("local_timestamp")
        for op, bound in ((">=", self.query.from_ts), ("<", self.query.to_ts)):
            if bound is not None:
                where.append(f"{ident(local)} {op} {_time_value(bound, self._types.get(local, ''))}")
        sql = f"SELECT {', '.join(parts)} FROM {ident(self.query.table)}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        order = self._order(local)
        if order:
            sql += f" ORDER BY {order}"
        return sql

    def _order(self, local: str) -> str | None:
        wanted = self.query.order
        if wanted == "none":
            return None
        if wanted:
            if wanted not in self._types:
                raise DataError(
                    self.path,
                    f"order={wanted}: no such column in {self.query.table}",
                    hint=f"The table's columns are: {', '.join(self._types)}",
                )
            return ident(wanted)
        if "seq" in self._types:  # what ``replayterm export --to postgresql`` writes: file order
            return ident("seq")
        return ident(local)

    def _estimate(self, cur: Any, sql: str) -> int:
        try:
            cur.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            plan = cur.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            return max(int(plan[0]["Plan"]["Plan Rows"]), 1)
        except Exception:  # an estimate only feeds the progress bar
            return 0

    def batches(self, layout: Layout) -> Generator[tuple[pa.RecordBatch, float], None, None]:
        types = raw_types(layout)
        names = list(layout.columns)
        sql = self._select(layout)
        try:
            cur = self._connection().cursor()
            try:
                cur.execute("SET standard_conforming_strings = on")
                cur.execute("SET TIME ZONE 'UTC'")  # timestamps without a zone are UTC, as in Tardis
                estimate = self._estimate(cur, sql)
                cur.adbc_statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(BATCH_BYTES)})
                cur.execute(sql)
                stream = cur.fetch_record_batch()
                rows = 0
                for batch in stream:
                    if batch.num_rows == 0:
                        continue
                    rows += batch.num_rows
                    arrays = [_coerce(self.path, batch.column(i), n, types[n]) for i, n in enumerate(names)]
                    fraction = min(rows / estimate, 0.99) if estimate else 0.5
                    yield pa.RecordBatch.from_arrays(arrays, names=names), fraction
            finally:
                cur.close()
        except DataError:
            raise
        except pa.ArrowException:
            raise
        except Exception as exc:
            raise database_error(self.path, exc, "the query failed") from None
        finally:
            self.close()


def _cast(column: str, sql_type: str, target: pa.DataType, name: str) -> str:
    """The select expression that hands the driver the type the normalizer reads."""
    if pa.types.is_int64(target):
        return column if sql_type in _TIMESTAMPS or sql_type == "bigint" else f"{column}::int8"
    if pa.types.is_floating(target):
        return column if sql_type == "double precision" else f"{column}::float8"
    if pa.types.is_boolean(target):
        return column if sql_type == "boolean" else f"{column}::boolean"
    if name == "side" and sql_type in _INTEGERS:
        return column
    return column if sql_type in _TEXT else f"{column}::text"


def _time_value(us: int, sql_type: str) -> str:
    if sql_type in _TIMESTAMPS:
        return f"(timestamptz 'epoch' + {int(us)} * interval '1 microsecond')"
    return str(int(us))
