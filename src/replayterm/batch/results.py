"""Sweep results on disk: ``sweep.csv`` (written row by row as runs finish, so an interrupted
sweep keeps what it finished) and, at the end, both ``sweep.csv`` and ``sweep.parquet`` sorted by
run number — so the files are the same whatever the number or kind of workers.

Columns: ``run``, one column per swept or fixed parameter (named as the parameter; a parameter
whose name clashes with a column below is written as ``param_<name>``), ``day`` (YYYY-MM-DD, or
empty for a run over all the data), ``status`` (ok / failed / error / died), ``error``, ``events``,
then every metric of ``replayterm.core.metrics.summarize`` (net_pnl, sharpe, max_drawdown, fills,
win_rate, …) in that function's order. Empty cells are values that do not exist (a Sharpe ratio
without returns, the metrics of a run that could not start).
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from replayterm.batch.jobs import RunJob, RunOutcome
from replayterm.core.metrics import FillTable, summarize

FIXED_COLUMNS = ("run", "day", "status", "error", "events")


# What a strategy's summary adds to ``summarize``'s metrics (funding paid or received on perpetuals).
SUMMARY_EXTRAS = ("funding", "net_pnl_with_funding")


def metric_names() -> list[str]:
    """The summary metrics, in ``summarize``'s order, then the summary's own additions."""
    empty = np.empty(0)
    return [*summarize(FillTable.empty(), empty.astype(np.int64), empty).keys(), *SUMMARY_EXTRAS]


INTEGER_METRICS = frozenset({"fills", "maker_fills", "taker_fills", "round_trips", "intervals"})


def text_metrics() -> frozenset[str]:
    """Metrics that are words, not numbers (e.g. why a run has no Sharpe ratio)."""
    empty = np.empty(0)
    sample = summarize(FillTable.empty(), empty.astype(np.int64), empty)
    return frozenset(name for name, value in sample.items() if isinstance(value, str))


TEXT_METRICS = text_metrics()


def param_column(name: str, taken: Sequence[str]) -> str:
    return f"param_{name}" if name in taken else name


def format_cell(value: Any) -> str:
    """CSV text of a value: floats in the shortest form that reads back to the same number."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "" if not math.isfinite(value) else repr(value)
    return str(value)


class SweepTable:
    """The rows of one sweep, and writing them out."""

    def __init__(self, out_dir: Path, param_names: Sequence[str], params_types: Mapping[str, type]) -> None:
        self.out_dir = Path(out_dir)
        self.metrics = metric_names()
        taken = [*FIXED_COLUMNS, *self.metrics]
        self.param_columns = {name: param_column(name, taken) for name in param_names}
        self.param_types = dict(params_types)
        self.columns = [
            "run",
            *self.param_columns.values(),
            "day",
            "status",
            "error",
            "events",
            *self.metrics,
        ]
        self.rows: dict[int, dict[str, Any]] = {}
        self._stream: IO[str] | None = None
        self._writer: Any = None

    @property
    def csv_path(self) -> Path:
        return self.out_dir / "sweep.csv"

    @property
    def parquet_path(self) -> Path:
        return self.out_dir / "sweep.parquet"

    def open(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._stream = self.csv_path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._stream)
        self._writer.writerow(self.columns)
        self._stream.flush()

    def row_of(self, job: RunJob, outcome: RunOutcome) -> dict[str, Any]:
        row: dict[str, Any] = {"run": job.run}
        for name, column in self.param_columns.items():
            row[column] = job.params.get(name)
        row.update(day=job.day or "", status=outcome.status, error=outcome.error or "", events=outcome.events)
        for name in self.metrics:
            row[name] = outcome.metrics.get(name)
        return row

    def add(self, job: RunJob, outcome: RunOutcome) -> dict[str, Any]:
        """Record a finished run and append it to sweep.csv at once."""
        row = self.row_of(job, outcome)
        self.rows[job.run] = row
        if self._writer is not None and self._stream is not None:
            self._writer.writerow([format_cell(row[c]) for c in self.columns])
            self._stream.flush()
        if outcome.files:
            folder = self.out_dir / "runs" / f"{job.run:05d}"
            folder.mkdir(parents=True, exist_ok=True)
            for name, data in outcome.files.items():
                (folder / name).write_bytes(data)
        return row

    def add_row(self, row: dict[str, Any]) -> None:
        """A run finished by an earlier sweep (read back from a results database)."""
        self.rows[int(row["run"])] = row
        if self._writer is not None and self._stream is not None:
            self._writer.writerow([format_cell(row.get(c)) for c in self.columns])
            self._stream.flush()

    def sorted_rows(self) -> list[dict[str, Any]]:
        return [self.rows[k] for k in sorted(self.rows)]

    def finish(self) -> None:
        """Rewrite sweep.csv in run order and write sweep.parquet (atomically, each)."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        rows = self.sorted_rows()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.csv_path.with_suffix(".csv.tmp")
        with tmp.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(self.columns)
            for row in rows:
                writer.writerow([format_cell(row[c]) for c in self.columns])
        os.replace(tmp, self.csv_path)
        tmp = self.parquet_path.with_suffix(".parquet.tmp")
        pq.write_table(self.to_arrow(rows), tmp)
        os.replace(tmp, self.parquet_path)

    def arrow_type(self, column: str) -> pa.DataType:
        for name, col in self.param_columns.items():
            if col == column:
                return arrow_type_of(self.param_types.get(name, str))
        if column in ("run", "events") or column in INTEGER_METRICS:
            return pa.int64()
        if column in ("day", "status", "error") or column in TEXT_METRICS:
            return pa.string()
        return pa.float64()

    def to_arrow(self, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
        return pa.table(
            {c: pa.array([r.get(c) for r in rows], type=self.arrow_type(c)) for c in self.columns}
        )


def arrow_type_of(kind: type) -> pa.DataType:
    if kind is bool:
        return pa.bool_()
    if kind is int:
        return pa.int64()
    if kind is float:
        return pa.float64()
    return pa.string()
