"""``replayterm backtest FILE… --strategy S [--param k=v …] … --out DIR``: strategies without the GUI.

Writes ``fills.csv``, ``equity.csv``, ``signals.csv``, ``plots.csv`` and ``summary.json`` to
``DIR``. Exit codes: 0 done, 1 bad data file or a strategy that cannot be loaded or configured,
2 bad arguments, 3 a strategy failed or was stopped during the run (its results up to there are
written; the error is in the summary and on stderr), 130 stopped with Ctrl+C (the results up to
there are written). A callback that does not return within ``--budget-s`` (default
``DEFAULT_BUDGET_S``) stops its strategy with that report instead of hanging the run.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

from replayterm import __version__
from replayterm.commands._common import TerminalProgress, check_time_range
from replayterm.commands.execution_args import (
    add_execution_arguments,
    execution_settings_from_args,
    settings_with,
)
from replayterm.commands.interrupt import StopOnInterrupt
from replayterm.core.data import Cancelled, DataError, format_time, parse_time
from replayterm.core.data.numfmt import plain
from replayterm.core.session import ReplaySession, SessionSettings
from replayterm.core.session.export import write_results
from replayterm.core.strategy import StrategyLoadError, build_params, load_strategy_class

DEFAULT_BUDGET_S = 10.0  # a single callback longer than this is taken as stuck
EXIT_STRATEGY_FAILED = 3
EXIT_INTERRUPTED = 130
ABORT_AFTER_S = 3.0  # after Ctrl+C, the time the run gets to reach a stop point before a callback is aborted

CONVENTIONS = {
    "equity": "cash + position x mid, from the first event of the run (--from when given)",
    "sharpe_sortino": "mean / std (Sortino: downside deviation, target 0) of equity changes over "
    "fixed --metrics-interval steps, times sqrt(intervals per 365-day year); null with fewer than 30",
    "markouts": "side x (mid at fill + horizon - mid just before the event that caused the fill)",
    "fees": "maker/taker rate x fill notional; negative = rebate",
    "latency": "replay axis: an order meets the book ENTRY us after it is sent; answers arrive "
    "RESPONSE us after the exchange acts",
}


class _StrategyAction(argparse.Action):
    """``--strategy X`` starts a new entry; the ``--param`` options after it belong to it."""

    def __call__(
        self, parser: argparse.ArgumentParser, ns: argparse.Namespace, value: Any, opt: Any = None
    ) -> None:
        entries = list(getattr(ns, self.dest, None) or [])
        entries.append({"spec": value, "params": {}, "exec": []})
        setattr(ns, self.dest, entries)


class _ParamAction(argparse.Action):
    def __call__(
        self, parser: argparse.ArgumentParser, ns: argparse.Namespace, value: Any, opt: Any = None
    ) -> None:
        entries = getattr(ns, self.dest, None) or []
        if not entries:
            parser.error(
                f"{opt} {value}: give --strategy first; a --param belongs to the --strategy before it"
            )
        key, sep, raw = str(value).partition("=")
        if not sep or not key.strip():
            parser.error(f"{opt} {value}: expected NAME=VALUE")
        entries[-1]["params"][key.strip()] = raw


class _ExecAction(argparse.Action):
    """``--exec NAME=VALUE``: an execution option of the --strategy before it only."""

    def __call__(
        self, parser: argparse.ArgumentParser, ns: argparse.Namespace, value: Any, opt: Any = None
    ) -> None:
        entries = getattr(ns, self.dest, None) or []
        if not entries:
            parser.error(
                f"{opt} {value}: give --strategy first; an --exec belongs to the --strategy before it"
            )
        key, sep, raw = str(value).partition("=")
        if not sep or not key.strip():
            parser.error(f"{opt} {value}: expected NAME=VALUE, e.g. fees-bps=1,3")
        entries[-1]["exec"].extend([f"--{key.strip().lstrip('-')}", raw])


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "backtest",
        help="run strategies over data files without the GUI and write fills, equity and metrics",
        description="Replay data files through one or more strategies, each with its own simulated "
        "exchange and account, and write fills.csv, equity.csv, signals.csv, plots.csv and "
        "summary.json to the output folder.",
    )
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="book and trade files (Tardis CSV, Parquet, Arrow)"
    )
    parser.add_argument(
        "--strategy",
        "-s",
        dest="strategies",
        action=_StrategyAction,
        required=True,
        metavar="PATH_OR_NAME",
        help="a strategy .py file (path.py or path.py:Class) or a registered name such as "
        "mean_reversion, imbalance_momentum, market_maker; repeat for several",
    )
    parser.add_argument(
        "--param",
        "-p",
        dest="strategies",
        action=_ParamAction,
        metavar="NAME=VALUE",
        help="a parameter of the --strategy given before it; repeat for several",
    )
    parser.add_argument(
        "--exec",
        dest="strategies",
        action=_ExecAction,
        metavar="NAME=VALUE",
        help="an execution option for the --strategy before it only, e.g. fees-bps=1,3 or "
        "latency-us=80000 (any option below without its dashes); repeat for several",
    )
    parser.add_argument(
        "--from",
        dest="from_ts",
        metavar="TIME",
        help="start at local time TIME (UTC); the book is rebuilt from earlier data",
    )
    parser.add_argument("--to", dest="to_ts", metavar="TIME", help="only data with local time < TIME (UTC)")
    add_run_arguments(parser)
    parser.add_argument(
        "--out", "-o", required=True, type=Path, metavar="DIR", help="output folder (created)"
    )
    parser.add_argument("--no-cache", action="store_true", help="read the files without the Arrow cache")
    add_execution_arguments(parser)
    parser.set_defaults(func=run)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a run besides execution: which instrument, the callback time budget."""
    parser.add_argument(
        "--instrument", metavar="SYMBOL", help="the instrument strategies trade (default: the first one)"
    )
    parser.add_argument(
        "--budget-s",
        type=float,
        metavar="S",
        help="stop (and report) a strategy whose single callback runs longer than S seconds "
        f"(default {DEFAULT_BUDGET_S:g}; 0 turns the check off)",
    )


def budget_from_args(args: argparse.Namespace) -> float | None:
    """``--budget-s``: the default when not given, None (no check) for 0; ValueError below 0."""
    budget = DEFAULT_BUDGET_S if args.budget_s is None else args.budget_s
    if not budget >= 0:
        raise ValueError(f"--budget-s must be >= 0 seconds (0 turns the check off), got {args.budget_s:g}")
    return budget or None


def settings_from_args(args: argparse.Namespace) -> SessionSettings:
    """Session settings from the command line; ValueError says which option is wrong."""
    return execution_settings_from_args(args, focus=args.instrument, callback_budget_s=budget_from_args(args))


class _CtrlC(StopOnInterrupt):
    """The first Ctrl+C stops the run cleanly (a callback running then is aborted, the results so
    far are written); a second one quits at once."""

    def __init__(self) -> None:
        super().__init__("replayterm backtest: stopping; the results so far are written")
        self.session: ReplaySession | None = None

    def on_first_interrupt(self) -> None:
        # A callback still running a moment later (a stuck one) is aborted, not from this handler:
        # it may run while the replay thread holds the watchdog's lock.
        threading.Thread(target=self._abort_if_stuck, daemon=True).start()

    def _abort_if_stuck(self) -> None:
        time.sleep(ABORT_AFTER_S)
        session = self.session
        if session is not None:
            session.watchdog.abort_current("stopped with Ctrl+C in {callback}")


def run(args: argparse.Namespace) -> int:
    with _CtrlC() as stop:
        try:
            return _run(args, stop)
        except KeyboardInterrupt:
            print("\nreplayterm backtest: interrupted; results not written", file=sys.stderr)
            return EXIT_INTERRUPTED


def print_table(summary: dict[str, Any]) -> None:
    """One line per strategy on stdout: status, fills, volume, fees, net PnL, drawdown."""
    names = ("fills", "volume", "fees", "net_pnl", "max_dd")
    print(f"{'strategy':<24} {'status':<9} {names[0]:>7} " + " ".join(f"{n:>12}" for n in names[1:]))
    for entry in summary["strategies"]:
        m = entry["metrics"]

        def num(key: str, m: dict[str, Any] = m) -> str:
            value = m.get(key)
            return "-" if value is None else plain(round(value, 8))

        print(
            f"{entry['name'][:24]:<24} {entry['status']:<9} {m['fills']:>7} {num('volume'):>12} "
            f"{num('fees'):>12} {num('net_pnl'):>12} {num('max_drawdown'):>12}"
        )
    run = summary["run"]
    print(f"{run['events']:,} events in {run['run_s']:.2f} s ({run['events_per_s']:,} events/s)")


def _run(args: argparse.Namespace, stop: _CtrlC) -> int:
    try:
        settings = settings_from_args(args)
        own = [settings_with(settings, e["exec"]) if e.get("exec") else None for e in args.strategies]
        from_ts = None if args.from_ts is None else parse_time(args.from_ts)
        to_ts = None if args.to_ts is None else parse_time(args.to_ts)
        check_time_range(args.from_ts, from_ts, args.to_ts, to_ts)
    except ValueError as exc:
        print(f"replayterm backtest: {exc}", file=sys.stderr)
        return 2
    try:  # load every strategy and check its parameters before reading any data
        for entry in args.strategies:
            cls = load_strategy_class(entry["spec"])
            build_params(cls.Params, entry["params"])
    except StrategyLoadError as exc:
        print(f"replayterm backtest: {exc}", file=sys.stderr)
        return 1
    except (TypeError, ValueError) as exc:
        print(f"replayterm backtest: strategy {entry['spec']}: {exc}", file=sys.stderr)
        return 1

    progress = TerminalProgress()
    started = time.perf_counter()
    try:
        from replayterm.core.data import open_sources

        # Data before --from is read too: it rebuilds the book as it stood at --from.
        sources = open_sources(
            args.files, to_ts=to_ts, use_cache=not args.no_cache, progress=progress, cancel=stop
        )
        session = ReplaySession(sources, settings, start_at=from_ts, progress=progress, cancel=stop)
    except Cancelled:
        progress.done()
        print("replayterm backtest: stopped with Ctrl+C before the run; nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except DataError as exc:
        progress.done()
        print(f"replayterm backtest: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # e.g. an unknown --instrument
        progress.done()
        print(f"replayterm backtest: {exc}", file=sys.stderr)
        return 1
    if session.origin >= session.cursor.n_events:
        progress.done()
        print("replayterm backtest: no book or trade rows in the given files and time range", file=sys.stderr)
        return 1
    loaded = time.perf_counter()
    notes = session.data_notes()
    for note in notes:
        print(f"replayterm backtest: note: {note}", file=sys.stderr)
    try:
        handles = [
            session.add_strategy(e["spec"], e["params"], settings=mine)
            for e, mine in zip(args.strategies, own, strict=True)
        ]
    except (StrategyLoadError, ValueError) as exc:
        progress.done()
        print(f"replayterm backtest: {exc}", file=sys.stderr)
        return 1
    execution_notes = session.execution_notes()
    for note in execution_notes:
        print(f"replayterm backtest: warning: {note}", file=sys.stderr)
    strategy_warnings = [w for h in handles for w in session.warnings_of(h)]
    for warning in strategy_warnings:
        print(f"replayterm backtest: warning: {warning}", file=sys.stderr)
    stop.session = session
    try:
        events = session.run_to_end(progress=progress, cancel=stop)
        stopped = False
    except Cancelled:
        events = session.cursor.position - session.origin
        stopped = True
    stop.session = None
    finished = time.perf_counter()
    progress.done()
    session.close()

    run_info = {
        "version": __version__,
        "files": [str(f) for f in args.files],
        "from": None if from_ts is None else format_time(from_ts),
        "to": None if to_ts is None else format_time(to_ts),
        "start": format_time(session.start_ts),
        "end": format_time(session.end_ts),
        "start_us": session.start_ts,
        "end_us": session.end_ts,
        "events": events,
        "stopped": stopped,
        "instruments": [inst.name for inst in session.instruments],
        "latency_us": {
            name: figures["latency_us"] for name, figures in session.execution_report()["instruments"].items()
        },
        "execution": session.execution_report(),
        "conventions": CONVENTIONS,
        "queue": settings.describe()["queue"],
        "initial_cash": settings.initial_cash,
        "sample_interval_us": settings.sample_interval_us,
        "load_s": round(loaded - started, 3),
        "run_s": round(finished - loaded, 3),
        "events_per_s": round(events / max(finished - loaded, 1e-9)),
        "warnings": notes + execution_notes + strategy_warnings + session.warnings,
        "bbo_checks": [c.to_json() for c in session.bbo_checks()],
    }
    try:
        summary = write_results(session, handles, args.out, run_info)
    except OSError as exc:
        print(f"replayterm backtest: cannot write to {args.out}: {exc}", file=sys.stderr)
        return 1
    print_table(summary)
    for entry in summary["strategies"]:
        error = entry["error"]
        if error is not None:
            print(
                f"replayterm backtest: strategy {entry['name']} stopped at {format_time(error['ts'])} "
                f"in {error['callback']}: {error['message']}\n{error['traceback']}",
                file=sys.stderr,
            )
    if stopped:
        print(
            f"replayterm backtest: stopped with Ctrl+C at {format_time(session.now)}; "
            f"the results up to there are in {args.out}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if any(entry["error"] is not None for entry in summary["strategies"]):
        return EXIT_STRATEGY_FAILED
    return 0
