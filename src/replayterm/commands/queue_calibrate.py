"""``replayterm queue-calibrate FILE``: every L2 queue model against the exact FIFO position of a
market-by-order file (``core.execution.calibrate``); ``--fit-on OTHER`` first picks the model
parameters on another file, then reports them on FILE."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from replayterm.commands._common import TerminalProgress, open_instruments
from replayterm.core.data import DataError
from replayterm.core.execution.calibrate import calibrate, default_models, fit


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "queue-calibrate",
        help="measure L2 queue models against the exact queue of a market-by-order file",
        description="Aggregate an MBO file (Databento .dbn/.dbn.zst or LOBSTER) to L2, run every L2 "
        "queue model for the same simulated orders and compare with the exact FIFO position: median "
        "and p90 queue-ahead error (share of the level), fill-rate error, time-to-fill error.",
    )
    parser.add_argument("file", metavar="FILE", help="market-by-order file to report on")
    parser.add_argument("--fit-on", metavar="FILE", help="fit the model parameters on this MBO file first")
    parser.add_argument("--every", type=float, default=10.0, metavar="S", help="seconds between order pairs")
    parser.add_argument("--horizon", type=float, default=60.0, metavar="S", help="cancel after S seconds")
    parser.add_argument(
        "--fit-every", type=float, metavar="S", help="--every for the fit file (default: --every)"
    )
    parser.add_argument("--fit-horizon", type=float, metavar="S", help="--horizon for the fit file")
    parser.add_argument("--symbol", help="which symbol, when the file holds several")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def _instrument(path: str, symbol: str | None) -> Any:
    found = [i for i in open_instruments([path]) if i.orders is not None and symbol in (None, i.symbol)]
    if not found:
        raise DataError(
            path, "no market-by-order book here", hint="Give a Databento MBO or LOBSTER message file"
        )
    return found[0]


def run(args: argparse.Namespace) -> int:
    if args.every <= 0 or args.horizon <= 0:
        print("replayterm queue-calibrate: --every and --horizon must be > 0 seconds", file=sys.stderr)
        return 2
    try:
        target = _instrument(args.file, args.symbol)
        fitted: dict[str, Any] | None = None
        models = default_models()
        if args.fit_on:
            source = _instrument(args.fit_on, None)
            bar = TerminalProgress("fitting")
            every = args.fit_every or args.every
            horizon = args.fit_horizon or args.horizon
            name, model, report = fit(source, every_s=every, horizon_s=horizon, progress=bar)
            bar.done()
            fitted = {"file": args.fit_on, "model": name, "fit_report": report}
            models[f"fitted: {name}"] = model
        bar = TerminalProgress("measuring")
        result = calibrate(target, models, every_s=args.every, horizon_s=args.horizon, progress=bar)
        bar.done()
    except DataError as exc:
        print(f"replayterm queue-calibrate: {exc}", file=sys.stderr)
        return 1
    result["file"] = args.file
    result["fitted"] = fitted
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(table(result))
    return 0


def table(result: dict[str, Any]) -> str:
    lines = [
        f"{result['instrument']}: {result['orders']} one-lot orders at the touch (a pair every "
        f"{result['every_s']:g} s, cancelled after {result['horizon_s']:g} s); exact FIFO fills "
        f"{result['exact_fill_rate']:.1%}",
    ]
    if result.get("fitted"):
        lines.append(f"fitted on {result['fitted']['file']}: {result['fitted']['model']}")
    lines.append("")
    lines.append(
        f"{'model':<28}{'ahead err median':>17}{'p90':>8}{'bias':>8}{'fill rate':>11}{'fill err':>10}"
        f"{'ttf err s':>11}{'|ttf| s':>9}"
    )
    for m in result["models"]:
        lines.append(
            f"{m['model']:<28}{m['ahead_error_median']:>17.1%}{m['ahead_error_p90']:>8.1%}"
            f"{m['ahead_bias_mean']:>+8.1%}{m['fill_rate']:>11.1%}{m['fill_rate_error']:>+10.1%}"
            f"{m['time_to_fill_error_median_s']:>+11.2f}{m['time_to_fill_error_mean_abs_s']:>9.2f}"
        )
    lines.append("")
    lines.append(
        "ahead err: |model - exact| queue ahead as a share of the level, over every book message while "
        "both rest; bias > 0: the model puts more ahead than there is; fill err: model minus exact fill "
        "rate; ttf err: median model minus exact time to first fill, |ttf|: its mean absolute value (orders "
        "both fill)."
    )
    return "\n".join(lines)
