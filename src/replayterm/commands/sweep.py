"""``replayterm sweep FILE… --strategy S --grid NAME=V1,V2,… … --out DIR``: many backtests at once.

Runs every combination of the ``--grid`` values (each day apart with ``--per-day``; chosen on
train days and tested on the next days with ``--walk-forward``) on local worker processes or on
Ray, and writes ``DIR/sweep.csv`` and ``DIR/sweep.parquet`` (one row per run). Exit codes: 0
done (runs that failed are rows with their error), 1 bad data or strategy, 2 bad arguments,
130 stopped with Ctrl+C (the finished rows are written).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
import time
from pathlib import Path
from typing import Any

from replayterm.batch import (
    LocalPool,
    RunConfig,
    SweepResult,
    WorkerStartError,
    metric_names,
    parse_grid_option,
    plan_sweep,
    run_sweep,
)
from replayterm.batch.sweep import Backend
from replayterm.commands._common import TerminalProgress, check_time_range
from replayterm.commands._sweep_execution import add_execution_arguments, execution_settings_from_args
from replayterm.commands.interrupt import StopOnInterrupt
from replayterm.core.data import Cancelled, DataError, parse_time
from replayterm.core.strategy import StrategyLoadError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="run a strategy over a grid of parameters (and days) on local processes or Ray",
        description="Run one strategy for every combination of the --grid values — over all the "
        "data, each day apart (--per-day), or as walk-forward splits — and write one row per run "
        "to DIR/sweep.csv and DIR/sweep.parquet.",
    )
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="book and trade files (several days welcome)"
    )
    parser.add_argument(
        "--strategy",
        "-s",
        required=True,
        metavar="PATH_OR_NAME",
        help="a strategy .py file or registered name",
    )
    parser.add_argument(
        "--grid",
        "-g",
        action="append",
        default=[],
        metavar="NAME=V1,V2,…",
        help="a parameter and the values to try; repeat for several (every combination runs)",
    )
    parser.add_argument(
        "--param",
        "-p",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a parameter kept at one value in every run",
    )
    parser.add_argument("--per-day", action="store_true", help="run each UTC day of the data apart")
    parser.add_argument(
        "--walk-forward",
        metavar="TRAIN_DAYS,TEST_DAYS",
        help="choose the best combination by --metric on TRAIN_DAYS days, test it on the next "
        "TEST_DAYS days, move on by TEST_DAYS days; writes DIR/walk_forward.csv too",
    )
    parser.add_argument(
        "--metric",
        default="net_pnl",
        choices=metric_names(),
        metavar="METRIC",
        help="what --walk-forward optimizes and the summary ranks by (default net_pnl; lower is "
        "better for max_drawdown, max_drawdown_pct and fees)",
    )
    parser.add_argument(
        "--out", "-o", required=True, type=Path, metavar="DIR", help="output folder (created)"
    )
    parser.add_argument(
        "--workers", "-j", type=int, metavar="N", help="local worker processes (default: the number of cores)"
    )
    parser.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="run on Ray: 'local' starts an embedded runtime, an address (e.g. ray://head:10001 or "
        "auto) joins a cluster. Needs pip install 'replayterm[ray]'",
    )
    parser.add_argument(
        "--ray-shared-files",
        action="store_true",
        help="with --ray ADDRESS: the files are at the same paths on every node (a shared file "
        "system), so they are not shipped through Ray's object store",
    )
    parser.add_argument(
        "--keep-runs", action="store_true", help="also write each run's backtest files to DIR/runs/NNNNN/"
    )
    parser.add_argument(
        "--from",
        dest="from_ts",
        metavar="TIME",
        help="runs start at local time TIME (UTC); the book is rebuilt from the data before it",
    )
    parser.add_argument("--to", dest="to_ts", metavar="TIME", help="only data before local time TIME (UTC)")
    parser.add_argument("--no-cache", action="store_true", help="read the files without the Arrow cache")
    parser.add_argument(
        "--results",
        metavar="postgresql://…",
        help="also write each run's parameters and metrics to this database as it finishes (tables "
        "PREFIX_runs and PREFIX_metrics, ?table=PREFIX, default replayterm_sweep); the same sweep "
        "run again skips the runs already there. Needs pip install 'replayterm[db]'",
    )
    add_execution_arguments(parser)
    parser.set_defaults(func=run)


def _fail(message: str, code: int) -> int:
    print(f"replayterm sweep: {message}", file=sys.stderr)
    return code


def _parse_pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"{what} {item!r}: expected NAME=VALUE")
        out[key.strip()] = value
    return out


def _walk_forward(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    parts = text.split(",")
    try:
        train, test = (int(p) for p in parts)
    except ValueError:
        raise ValueError(
            f"--walk-forward expects TRAIN_DAYS,TEST_DAYS (two whole numbers), got {text!r}"
        ) from None
    if train < 1 or test < 1:
        raise ValueError(f"--walk-forward expects numbers >= 1, got {text!r}")
    return train, test


def make_backend(ray: str | None, workers: int | None, shared_files: bool = False) -> Backend:
    """A local pool, or Ray (``RayUnavailableError`` says how to install or what failed)."""
    if ray is None:
        return LocalPool(workers)
    from replayterm.batch.ray_backend import RayBackend

    return RayBackend(ray, workers, ship_files=False if shared_files else None)


def run(args: argparse.Namespace) -> int:
    try:
        settings = execution_settings_from_args(args)
        grid = [parse_grid_option(g) for g in args.grid]
        fixed = _parse_pairs(args.param, "--param")
        walk = _walk_forward(args.walk_forward)
        from_ts = None if args.from_ts is None else parse_time(args.from_ts)
        to_ts = None if args.to_ts is None else parse_time(args.to_ts)
        check_time_range(args.from_ts, from_ts, args.to_ts, to_ts)
        if args.workers is not None and args.workers < 1:
            raise ValueError(f"--workers must be >= 1, got {args.workers}")
    except ValueError as exc:
        return _fail(str(exc), 2)
    if not grid:
        print("replayterm sweep: note: no --grid given, so there is one combination", file=sys.stderr)

    with StopOnInterrupt("replayterm sweep: stopping; finished rows are kept") as stop:
        progress = TerminalProgress("opening")
        try:
            plan = plan_sweep(
                args.files,
                args.strategy,
                grid,
                fixed,
                per_day=args.per_day,
                walk_forward=walk,
                from_ts=from_ts,
                to_ts=to_ts,
                use_cache=not args.no_cache,
                progress=progress,
                cancel=stop,
            )
        except Cancelled:
            progress.done()
            return _fail("stopped before any run", 130)
        except StrategyLoadError as exc:
            progress.done()
            return _fail(str(exc), 1)
        except DataError as exc:
            progress.done()
            return _fail(str(exc), 1)
        except (TypeError, ValueError) as exc:
            progress.done()
            return _fail(str(exc), 2)
        progress.done()

        try:
            backend = make_backend(args.ray, args.workers, args.ray_shared_files)
        except RuntimeError as exc:  # RayUnavailableError
            return _fail(str(exc), 2)
        config = RunConfig(args.strategy, settings, use_cache=not args.no_cache, keep_runs=args.keep_runs)
        results = None
        finished: dict[int, dict[str, Any]] = {}
        if args.results:
            try:
                results = _open_results(args, plan, settings)
                finished = {run: row for run, row in results.done().items() if run < len(plan.jobs)}
            except DataError as exc:
                backend.close()
                return _fail(str(exc), 1)
            if finished:
                print(
                    f"replayterm sweep: {_count(len(finished), 'run')} already in the results database, "
                    "not run again",
                    file=sys.stderr,
                )
        days = "" if plan.days is None else f" over {len(plan.days)} days"
        print(
            f"replayterm sweep: {_count(len(plan.jobs), 'run')} ({_count(len(plan.combos), 'combination')}"
            f"{days}) on {backend.describe()}",
            file=sys.stderr,
        )
        started = time.perf_counter()

        def report(row: dict[str, Any], done: int, total: int) -> None:
            nonlocal results
            if results is not None:
                try:
                    results.record(row)
                except DataError as exc:  # the files still get every row
                    print(f"replayterm sweep: results database no longer written: {exc}", file=sys.stderr)
                    results.close()
                    results = None
            params = " ".join(f"{k}={row.get(k)}" for k in plan.param_names if k in row)
            where = f" {row['day']}" if row["day"] else ""
            value = row.get(args.metric)
            shown = "-" if value is None else f"{value:.6g}"
            print(
                f"[{done}/{total}] run {row['run']} {params}{where}: {row['status']} {args.metric}={shown}",
                file=sys.stderr,
                flush=True,
            )

        try:
            result = run_sweep(
                plan,
                config,
                backend,
                args.out,
                metric=args.metric,
                on_row=report,
                stop=stop,
                finished=finished,
            )
        except OSError as exc:
            return _fail(f"cannot write to {args.out}: {exc}", 1)
        except WorkerStartError as exc:
            return _fail(str(exc), 1)
        finally:
            backend.close()
            if results is not None:
                results.close()
    elapsed = time.perf_counter() - started
    print_summary(result, plan.param_names, args.metric, args.out, elapsed)
    return 130 if stop() and result.cancelled else 0


def _open_results(args: argparse.Namespace, plan: Any, settings: Any) -> Any:
    """The results database of this sweep: keyed by everything that decides its rows."""
    from replayterm.batch.results import SweepTable
    from replayterm.batch.results_db import open_results, sweep_key
    from replayterm.core.data.postgres.query import redact

    strategy = Path(args.strategy)
    code = hashlib.sha256(strategy.read_bytes()).hexdigest() if strategy.is_file() else None
    key = sweep_key(
        {
            "files": [redact(f) for f in args.files],
            "strategy": args.strategy,
            "strategy_code": code,
            "grid": args.grid,
            "param": args.param,
            "per_day": args.per_day,
            "walk_forward": args.walk_forward,
            "from": args.from_ts,
            "to": args.to_ts,
            "settings": repr(settings),
        }
    )
    columns = SweepTable(args.out, plan.param_names, plan.param_types).param_columns
    return open_results(args.results, key, columns)


def print_summary(result: SweepResult, params: list[str], metric: str, out: Path, elapsed: float) -> None:
    ok = [r for r in result.rows if r["status"] == "ok" and r.get(metric) is not None]
    reverse = metric not in ("max_drawdown", "max_drawdown_pct", "fees")
    best = sorted(ok, key=lambda r: (-r[metric] if reverse else r[metric], r["run"]))[:5]
    if best:
        print(f"best runs by {metric}:")
        for r in best:
            values = " ".join(f"{k}={r.get(k)}" for k in params)
            day = f" {r['day']}" if r["day"] else ""
            print(f"  run {r['run']:>4} {values}{day}: {metric}={r[metric]:.6g} fills={r['fills']}")
    if result.choices:
        total = 0.0
        print(f"walk-forward (chosen by mean {metric} over the train days):")
        for choice in result.choices:
            split = choice.split
            if choice.combo is None:
                print(f"  split {split.index}: no combination finished every train day")
                continue
            tested = [w for w in result.walk_forward_rows if w["split"] == split.index]
            pnl = sum(w["net_pnl"] or 0.0 for w in tested if w["status"] == "ok")
            total += pnl
            first = tested[0] if tested else {}
            values = " ".join(f"{k}={first.get(k)}" for k in params)
            score = "-" if choice.score is None or not math.isfinite(choice.score) else f"{choice.score:.6g}"
            print(
                f"  split {split.index}: train {split.train[0]}..{split.train[-1]} -> {values} "
                f"({metric} {score}); test {split.test[0]}..{split.test[-1]} net_pnl={pnl:.6g}"
            )
        print(f"  out-of-sample net_pnl, all splits: {total:.6g}")
    failed = sum(1 for r in result.rows if r["status"] != "ok")
    note = f", {failed} not ok (see the status and error columns)" if failed else ""
    stopped = f", stopped after {result.finished} of {result.total}" if result.cancelled else ""
    print(
        f"{_count(result.finished, 'run')} in {elapsed:.1f} s{note}{stopped}; results in {out / 'sweep.csv'}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
