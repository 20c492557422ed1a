"""Connections through ADBC's PostgreSQL driver, with every failure told as a ``DataError``.

ADBC (``adbc-driver-postgresql``, in the ``db`` extra) reads a query as Arrow record batches over
``COPY (…) TO STDOUT (FORMAT BINARY)``: no Python object per row, and batches of bounded size
while the server streams. README "Databases" has the measurement against psycopg 3.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from replayterm.core.data.postgres.query import redact
from replayterm.core.errors import DataError

INSTALL_HINT = "Install the database extra: pip install 'replayterm[db]' (ADBC's PostgreSQL driver)"
CONNECT_HINT = (
    "Check the URL (postgresql://USER@HOST:PORT/DB), that the server is running, and the password "
    "(in the URL or in PGPASSWORD)"
)


def driver() -> Any:
    try:
        import adbc_driver_postgresql.dbapi as dbapi
    except ImportError:
        return None
    return dbapi


def database_error(path: str | Path, exc: BaseException, doing: str, hint: str | None = None) -> DataError:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for prefix in ("IO: ", "INVALID_ARGUMENT: ", "INTERNAL: "):
        message = message.removeprefix(prefix)
    return DataError(path, f"{doing}: {redact(message)}", hint=hint)


def connect(conninfo: str, path: str | Path, autocommit: bool = True) -> Any:
    """An ADBC connection, or a ``DataError`` saying why there is none."""
    dbapi = driver()
    if dbapi is None:
        raise DataError(
            path, "reading from PostgreSQL needs the ADBC driver, not installed", hint=INSTALL_HINT
        )
    try:
        return dbapi.connect(conninfo, autocommit=autocommit)
    except Exception as exc:  # the driver's errors: no server, bad password, no such database
        raise database_error(path, exc, "cannot connect to the database", CONNECT_HINT) from None


@contextlib.contextmanager
def connection(conninfo: str, path: str | Path, autocommit: bool = True) -> Iterator[Any]:
    conn = connect(conninfo, path, autocommit)
    try:
        yield conn
    finally:
        with contextlib.suppress(Exception):
            conn.close()


def ident(name: str) -> str:
    """A quoted SQL identifier; ``schema.table`` is quoted part by part."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def literal(value: str) -> str:
    """A quoted SQL string literal (the session runs with standard_conforming_strings on)."""
    return "'" + value.replace("'", "''") + "'"


def table_parts(table: str) -> tuple[str | None, str]:
    schema, _, name = table.rpartition(".")
    return (schema or None), name


def table_columns(cursor: Any, table: str) -> list[tuple[str, str]]:
    """(name, data type) of a table's or view's columns, in their order; empty if there is none."""
    schema, name = table_parts(table)
    where_schema = f"table_schema = {literal(schema)}" if schema else "table_schema = current_schema()"
    cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        f"WHERE {where_schema} AND table_name = {literal(name)} ORDER BY ordinal_position"
    )
    return [(str(n), str(t)) for n, t in cursor.fetchall()]


def has_timescale(cursor: Any) -> bool:
    cursor.execute("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")
    row = cursor.fetchone()
    return bool(row and row[0])
