"""``replayterm backtest FILE… --strategy S [--param k=v …] … --out DIR``: strategies without the GUI.

Writes ``fills.csv``, ``equity.csv``, ``signals.csv``, ``plots.csv`` and ``summary.json`` to
``DIR``. Exit codes: 0 done (a strategy that failed during the run is reported in the summary
and on stderr), 1 bad data file or a strategy that cannot be loaded or configured, 2 bad
arguments.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from replayterm import __version__
from replayterm.commands._common import TerminalProgress
from replayterm.core.data import DataError, format_time, parse_time
from replayterm.core.execution import ConstantLatency, FeeSchedule
from replayterm.core.session import QUEUE_MODELS, ReplaySession, SessionSettings
from replayterm.core.session.export import write_results
from replayterm.core.strategy import StrategyLoadError, build_params, load_strategy_class


class _StrategyAction(argparse.Action):
    """``--strategy X`` starts a new entry; the ``--param`` options after it belong to it."""

    def __call__(
        self, parser: argparse.ArgumentParser, ns: argparse.Namespace, value: Any, opt: Any = None
    ) -> None:
        entries = list(getattr(ns, self.dest, None) or [])
        entries.append({"spec": value, "params": {}})
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
        "--from",
        dest="from_ts",
        metavar="TIME",
        help="start at local time TIME (UTC); the book is rebuilt from earlier data",
    )
    parser.add_argument("--to", dest="to_ts", metavar="TIME", help="only data with local time < TIME (UTC)")
    parser.add_argument(
        "--instrument", metavar="SYMBOL", help="the instrument strategies trade (default: the first one)"
    )
    parser.add_argument(
        "--latency-us",
        metavar="ENTRY[,RESPONSE]",
        help="order latency on the replay axis in µs: an order meets the book ENTRY µs after it is "
        "sent, answers reach the strategy RESPONSE µs (default 0) after the exchange acts. "
        "Default: estimated from the data's local-vs-exchange time skew",
    )
    parser.add_argument(
        "--fees-bps", metavar="MAKER,TAKER", help="fees in bps of notional; negative = rebate"
    )
    parser.add_argument(
        "--slippage-bps", type=float, metavar="BPS", help="extra price slippage on taker fills"
    )
    parser.add_argument("--queue", choices=QUEUE_MODELS, default="risk-averse", help="queue-position model")
    parser.add_argument(
        "--cash", type=float, default=0.0, metavar="AMOUNT", help="initial cash of each account"
    )
    parser.add_argument(
        "--sample-ms", type=float, default=100.0, metavar="MS", help="equity sampling interval (default 100)"
    )
    parser.add_argument(
        "--budget-s",
        type=float,
        metavar="S",
        help="stop (and report) a strategy whose single callback runs longer than S seconds",
    )
    parser.add_argument(
        "--out", "-o", required=True, type=Path, metavar="DIR", help="output folder (created)"
    )
    parser.add_argument("--no-cache", action="store_true", help="read the files without the Arrow cache")
    parser.set_defaults(func=run)


def _pair(text: str, what: str, *, second_default: float | None = None) -> tuple[float, float]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 1 and second_default is not None:
        parts.append(str(second_default))
    if len(parts) != 2:
        raise ValueError(f"{what} expects two numbers separated by a comma, got {text!r}")
    try:
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"{what} expects numbers, got {text!r}") from None


def settings_from_args(args: argparse.Namespace) -> SessionSettings:
    """Session settings from the command line; ValueError says which option is wrong."""
    latency = None
    if args.latency_us is not None:
        entry, response = _pair(args.latency_us, "--latency-us", second_default=0)
        if entry < 0 or response < 0 or entry != int(entry) or response != int(response):
            raise ValueError(f"--latency-us expects whole µs >= 0, got {args.latency_us!r}")
        latency = ConstantLatency(int(entry), int(response))
    fees = FeeSchedule()
    if args.fees_bps is not None:
        maker, taker = _pair(args.fees_bps, "--fees-bps")
        fees = FeeSchedule.from_bps(maker, taker)
    if args.sample_ms <= 0:
        raise ValueError(f"--sample-ms must be > 0, got {args.sample_ms}")
    return SessionSettings(
        latency=latency,
        fees=fees,
        slippage_bps=args.slippage_bps,
        queue=args.queue,
        initial_cash=args.cash,
        focus=args.instrument,
        sample_interval_us=max(1, round(args.sample_ms * 1000)),
        callback_budget_s=args.budget_s,
    )


def print_table(summary: dict[str, Any]) -> None:
    """One line per strategy on stdout: status, fills, volume, fees, net PnL, drawdown."""
    names = ("fills", "volume", "fees", "net_pnl", "max_dd")
    print(f"{'strategy':<24} {'status':<9} {names[0]:>7} " + " ".join(f"{n:>12}" for n in names[1:]))
    for entry in summary["strategies"]:
        m = entry["metrics"]

        def num(key: str, m: dict[str, Any] = m) -> str:
            value = m.get(key)
            return "-" if value is None else f"{value:.6g}"

        print(
            f"{entry['name'][:24]:<24} {entry['status']:<9} {m['fills']:>7} {num('volume'):>12} "
            f"{num('fees'):>12} {num('net_pnl'):>12} {num('max_drawdown'):>12}"
        )
    run = summary["run"]
    print(f"{run['events']:,} events in {run['run_s']:.2f} s ({run['events_per_s']:,} events/s)")


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_args(args)
        from_ts = None if args.from_ts is None else parse_time(args.from_ts)
        to_ts = None if args.to_ts is None else parse_time(args.to_ts)
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
        sources = open_sources(args.files, to_ts=to_ts, use_cache=not args.no_cache, progress=progress)
        session = ReplaySession(sources, settings, start_at=from_ts, progress=progress)
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
        handles = [session.add_strategy(e["spec"], e["params"]) for e in args.strategies]
    except (StrategyLoadError, ValueError) as exc:
        progress.done()
        print(f"replayterm backtest: {exc}", file=sys.stderr)
        return 1
    strategy_warnings = [w for h in handles for w in session.warnings_of(h)]
    for warning in strategy_warnings:
        print(f"replayterm backtest: warning: {warning}", file=sys.stderr)
    events = session.run_to_end(progress=progress)
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
        "instruments": [inst.name for inst in session.instruments],
        "latency_us": {
            inst.name: {
                "entry": session.latency(i).entry(session.start_ts),
                "response": session.latency(i).response(session.start_ts),
            }
            for i, inst in enumerate(session.instruments)
        },
        "fees": {"maker": settings.fee_schedule().maker, "taker": settings.fee_schedule().taker},
        "slippage_bps": settings.fee_schedule().taker_slippage_bps,
        "queue": args.queue,
        "initial_cash": settings.initial_cash,
        "sample_interval_us": settings.sample_interval_us,
        "load_s": round(loaded - started, 3),
        "run_s": round(finished - loaded, 3),
        "events_per_s": round(events / max(finished - loaded, 1e-9)),
        "warnings": notes + strategy_warnings + session.warnings,
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
    return 0
