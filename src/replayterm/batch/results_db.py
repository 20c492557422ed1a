"""Sweep results in PostgreSQL: ``replayterm sweep … --results 'postgresql://…[?table=PREFIX]'``.

Two tables (``PREFIX_runs``, ``PREFIX_metrics``; PREFIX defaults to ``replayterm_sweep``), created
when missing:

- runs: ``sweep`` (a digest of everything that decides the results: files, strategy and its code,
  grid, fixed parameters, days, range, execution settings), ``run`` (the plan's run number),
  ``day``, ``params`` (jsonb), ``status``, ``error``, ``events``, ``row`` (the whole sweep.csv row
  as jsonb), ``finished_at``; primary key (sweep, run).
- metrics: ``sweep``, ``run``, ``name``, ``value`` (double precision) or ``text_value``; one row
  per metric of the run; primary key (sweep, run, name).

Each run is committed the moment it finishes, so a sweep that crashes or is stopped keeps what it
finished; run again with the same arguments, it reads those rows back and runs only the rest
(a run whose worker died is run again).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from replayterm.batch.jobs import CANCELLED, DIED
from replayterm.core.data.postgres.connect import connect, database_error, ident
from replayterm.core.data.postgres.query import redact
from replayterm.core.errors import DataError

DEFAULT_PREFIX = "replayterm_sweep"
_FIXED = ("run", "day", "status", "error", "events")


def sweep_key(description: Mapping[str, Any]) -> str:
    text = json.dumps(description, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class DatabaseResults:
    """The runs of one sweep (by its key) in a database: what is done, and recording each new one."""

    def __init__(self, url: str, key: str, param_columns: Mapping[str, str]) -> None:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        prefix = next((v for k, v in pairs if k == "table" and v), DEFAULT_PREFIX)
        conninfo = urlunsplit(
            (parts.scheme, parts.netloc, parts.path, urlencode([p for p in pairs if p[0] != "table"]), "")
        )
        self.shown = redact(url)
        self.key = key
        self.param_columns = dict(param_columns)  # parameter -> its column in the row
        self.runs = f"{prefix}_runs"
        self.metrics = f"{prefix}_metrics"
        self._conn = connect(conninfo, self.shown, autocommit=False)
        try:
            with self._conn.cursor() as cur:
                cur.execute(
                    f"CREATE TABLE IF NOT EXISTS {ident(self.runs)} (sweep text NOT NULL, "
                    "run integer NOT NULL, day text, params jsonb NOT NULL, status text NOT NULL, "
                    "error text, events bigint, "
                    "row jsonb NOT NULL, finished_at timestamptz NOT NULL, PRIMARY KEY (sweep, run))"
                )
                cur.execute(
                    f"CREATE TABLE IF NOT EXISTS {ident(self.metrics)} (sweep text NOT NULL, "
                    "run integer NOT NULL, name text NOT NULL, value double precision, text_value text, "
                    "PRIMARY KEY (sweep, run, name))"
                )
            self._conn.commit()
        except Exception as exc:
            self.close()
            raise database_error(self.shown, exc, "the results tables cannot be created") from None

    def done(self) -> dict[int, dict[str, Any]]:
        """The finished runs of this sweep already in the database (not those whose worker died)."""
        try:
            with self._conn.cursor() as cur:
                cur.execute(
                    f"SELECT run, row::text FROM {ident(self.runs)} WHERE sweep = $1 AND status <> $2 "
                    "AND status <> $3",
                    (self.key, DIED, CANCELLED),
                )
                found = {int(run): json.loads(row) for run, row in cur.fetchall()}
            self._conn.commit()
        except Exception as exc:
            raise database_error(self.shown, exc, "the finished runs cannot be read") from None
        return found

    def record(self, row: Mapping[str, Any]) -> None:
        """Write one finished run and its metrics, committed at once."""
        clean = {k: _plain(v) for k, v in row.items()}
        params = {name: clean.get(column) for name, column in self.param_columns.items()}
        taken = {*_FIXED, *self.param_columns.values()}
        run = int(clean["run"])
        metrics = [(k, v) for k, v in clean.items() if k not in taken]
        try:
            with self._conn.cursor() as cur:
                cur.execute(
                    f"INSERT INTO {ident(self.runs)} "
                    "VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8::jsonb, $9) "
                    "ON CONFLICT (sweep, run) DO UPDATE SET day = EXCLUDED.day, params = EXCLUDED.params, "
                    "status = EXCLUDED.status, error = EXCLUDED.error, events = EXCLUDED.events, "
                    "row = EXCLUDED.row, finished_at = EXCLUDED.finished_at",
                    (
                        self.key,
                        run,
                        clean.get("day") or None,
                        json.dumps(params),
                        str(clean.get("status")),
                        clean.get("error") or None,
                        clean.get("events"),
                        json.dumps(clean),
                        datetime.now(UTC),
                    ),
                )
                cur.execute(
                    f"DELETE FROM {ident(self.metrics)} WHERE sweep = $1 AND run = $2", (self.key, run)
                )
                for name, value in metrics:
                    number = (
                        float(value)
                        if isinstance(value, int | float) and not isinstance(value, bool)
                        else None
                    )
                    text = None if number is not None or value is None else str(value)
                    cur.execute(
                        f"INSERT INTO {ident(self.metrics)} VALUES ($1, $2, $3, $4, $5)",
                        (self.key, run, name, number, text),
                    )
            self._conn.commit()
        except Exception as exc:
            raise database_error(self.shown, exc, f"run {run} could not be written") from None

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                conn.close()


def open_results(url: str, key: str, param_columns: Mapping[str, str]) -> DatabaseResults:
    """``DatabaseResults``, or a ``DataError`` that says what is wrong with the URL or server."""
    if not url.lower().startswith(("postgresql://", "postgres://")):
        raise DataError(url, "--results takes a postgresql:// URL", hint="postgresql://USER@HOST/DB")
    return DatabaseResults(url, key, param_columns)
