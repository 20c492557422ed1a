"""A sweep from start to end: plan the runs, hand them to a backend, collect the rows.

``plan_sweep`` checks everything that can be checked before any run (the strategy loads, every
value converts to its parameter's type, the data files open) and opens each file once here, in
the parent: that converts text files to the memory-mapped Arrow cache, so the workers only map
it. ``run_sweep`` then runs the plan on a backend (``LocalPool`` or ``RayBackend``), writing each
row as it arrives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import pyarrow.parquet as pq

from replayterm.batch.days import DayWindow, Split, day_windows, file_span, walk_forward_splits
from replayterm.batch.grid import GridAxis, expand_grid, typed_axes
from replayterm.batch.jobs import RunConfig, RunJob, RunOutcome
from replayterm.batch.results import SweepTable, arrow_type_of, format_cell
from replayterm.batch.walkforward import Choice, choose
from replayterm.core.data import CancelFn, ProgressFn, open_sources
from replayterm.core.data.cache import cache_dir
from replayterm.core.data.progress import Monitor
from replayterm.core.strategy import build_params, load_strategy_class

ResultFn = Callable[[RunJob, RunOutcome], None]
StopFn = Callable[[], bool]


class Backend(Protocol):
    def describe(self) -> str: ...

    def run(self, jobs: Sequence[RunJob], config: RunConfig, on_result: ResultFn, stop: StopFn) -> None: ...

    def close(self) -> None: ...


@dataclass
class SweepPlan:
    files: list[str]
    strategy: str
    axes: list[GridAxis]
    fixed: dict[str, Any]
    combos: list[dict[str, Any]]
    days: list[DayWindow] | None  # None: each combination runs once over all the data
    splits: list[Split]
    jobs: list[RunJob]
    param_types: dict[str, type] = field(default_factory=dict)

    @property
    def param_names(self) -> list[str]:
        return [a.name for a in self.axes] + [k for k in self.fixed if k not in {a.name for a in self.axes}]


def plan_sweep(
    files: Sequence[str],
    strategy: str,
    grid: Sequence[tuple[str, Sequence[Any]]],
    fixed: Mapping[str, Any] | None = None,
    *,
    per_day: bool = False,
    walk_forward: tuple[int, int] | None = None,
    from_ts: int | None = None,
    to_ts: int | None = None,
    use_cache: bool = True,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> SweepPlan:
    """Every run of the sweep, in row order (days outer, combinations inner). Raises
    ``StrategyLoadError``, ``ValueError`` (parameters, splits) or ``DataError`` (files)."""
    cls = load_strategy_class(strategy)
    axes = typed_axes(cls.Params, grid, fixed)
    fixed_typed = {k: getattr(build_params(cls.Params, {k: v}), k) for k, v in (fixed or {}).items()}
    combos = [{**fixed_typed, **combo} for combo in expand_grid(axes)]
    paths = [str(f) for f in files]
    monitor = Monitor(progress, cancel)
    spans = []
    for i, path in enumerate(paths):  # opening here fills the cache the workers then map
        sources = open_sources(
            [path], use_cache=use_cache, progress=monitor.part(i, len(paths)).report, cancel=cancel
        )
        spans.append(file_span(path, sources))
    days: list[DayWindow] | None = None
    splits: list[Split] = []
    jobs: list[RunJob] = []
    if per_day or walk_forward is not None:
        days = day_windows(spans, from_ts, to_ts)
        if not days:
            raise ValueError("the files hold no rows in the given time range, so there is no day to run")
        if walk_forward is not None:
            splits = walk_forward_splits([d.day for d in days], *walk_forward)
        for window in days:
            for c, params in enumerate(combos):
                jobs.append(
                    RunJob(len(jobs), c, params, window.day, window.files, window.from_ts, window.to_ts)
                )
    else:
        for c, params in enumerate(combos):
            jobs.append(RunJob(len(jobs), c, params, None, tuple(paths), from_ts, to_ts))
    types = {k: type(v) for k, v in combos[0].items()} if combos else {}
    return SweepPlan(paths, strategy, axes, fixed_typed, combos, days, splits, jobs, types)


@dataclass
class SweepResult:
    rows: list[dict[str, Any]]
    total: int
    cancelled: bool
    choices: list[Choice]
    walk_forward_rows: list[dict[str, Any]]
    run_wall_s: float = 0.0  # wall time of the runs, summed
    run_cpu_s: float = 0.0  # CPU time they got, summed (run_cpu_s / run_wall_s = share of a core)

    @property
    def finished(self) -> int:
        return len(self.rows)


def run_sweep(
    plan: SweepPlan,
    config: RunConfig,
    backend: Backend,
    out_dir: Path,
    *,
    metric: str = "net_pnl",
    on_row: Callable[[dict[str, Any], int, int], None] | None = None,
    stop: StopFn | None = None,
    finished: Mapping[int, dict[str, Any]] | None = None,
) -> SweepResult:
    """Run every job of ``plan``; rows are appended to ``out_dir``/sweep.csv as runs finish, and
    the final sorted files written at the end — also when stopped (then with the rows finished).
    ``finished``: rows of runs done by an earlier sweep (by run number), taken as they are."""
    if config.cache_dir is None and config.use_cache and getattr(backend, "shares_disk", True):
        config = replace(config, cache_dir=str(cache_dir()))
    table = SweepTable(Path(out_dir), plan.param_names, plan.param_types)
    table.open()
    stopped = stop or (lambda: False)
    total = len(plan.jobs)
    earlier = dict(finished or {})
    for run in sorted(earlier):
        table.add_row(earlier[run])
    jobs = [job for job in plan.jobs if job.run not in earlier]

    spent = [0.0, 0.0]

    def collect(job: RunJob, outcome: RunOutcome) -> None:
        spent[0] += outcome.elapsed_s
        spent[1] += outcome.cpu_s
        row = table.add(job, outcome)
        if on_row is not None:
            on_row(row, len(table.rows), total)

    try:
        backend.run(jobs, config, collect, stopped)
    finally:
        table.finish()
    rows = table.sorted_rows()
    cancelled = len(rows) < total
    choices: list[Choice] = []
    wf_rows: list[dict[str, Any]] = []
    if plan.splits:
        choices, wf_rows = walk_forward(plan, rows, metric)
        write_walk_forward(table, Path(out_dir), wf_rows, metric)
    return SweepResult(rows, total, cancelled, choices, wf_rows, spent[0], spent[1])


def walk_forward(
    plan: SweepPlan, rows: Sequence[dict[str, Any]], metric: str
) -> tuple[list[Choice], list[dict[str, Any]]]:
    combo_of = {job.run: job.combo for job in plan.jobs}
    keyed = [{**r, "combo": combo_of[r["run"]]} for r in rows]
    by_key = {(r["combo"], r["day"]): r for r in keyed}
    choices, out = [], []
    for split in plan.splits:
        choice = choose(split, keyed, len(plan.combos), metric)
        choices.append(choice)
        if choice.combo is None:
            continue
        for day in split.test:
            test = by_key.get((choice.combo, day))
            if test is None:
                continue  # not run (the sweep was stopped)
            row = {k: v for k, v in test.items() if k != "combo"}
            out.append(
                {
                    "split": split.index,
                    "train_from": split.train[0],
                    "train_to": split.train[-1],
                    f"train_{metric}": choice.score,
                    **row,
                }
            )
    return choices, out


def write_walk_forward(table: SweepTable, out_dir: Path, rows: Sequence[dict[str, Any]], metric: str) -> None:
    """``walk_forward.csv`` / ``.parquet``: one row per (split, test day) of the chosen combination."""
    import csv

    import pyarrow as pa

    head = ["split", "train_from", "train_to", f"train_{metric}"]
    columns = head + table.columns
    types = {"split": pa.int64(), "train_from": pa.string(), "train_to": pa.string(), head[3]: pa.float64()}
    with (out_dir / "walk_forward.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([format_cell(row.get(c)) for c in columns])
    arrays = {
        c: pa.array([r.get(c) for r in rows], type=types.get(c) or table.arrow_type(c)) for c in columns
    }
    pq.write_table(pa.table(arrays), out_dir / "walk_forward.parquet")


__all__ = ["Backend", "SweepPlan", "SweepResult", "arrow_type_of", "plan_sweep", "run_sweep"]
