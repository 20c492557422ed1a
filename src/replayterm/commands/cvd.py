"""``replayterm cvd FILES --interval 1m``: cumulative volume delta candles, reset each session."""

from __future__ import annotations

import argparse

from replayterm.commands._flow import add_common, open_flow, print_table, run_guarded, time_range
from replayterm.core.flow import parse_sessions


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cvd",
        help="cumulative volume delta per bar (candles), reset at each session start",
        description="Running aggressive-buy minus aggressive-sell volume as candles per bar: open at "
        "the previous close, high/low over the bar's trades, close after its last trade. It "
        "accumulates from the session start (UTC midnight by default), not from --from.",
    )
    add_common(parser)
    parser.add_argument(
        "--session", default="utc", metavar="HH:MM", help="session start (UTC), default midnight"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    def body() -> int:
        start, end = time_range(args)
        sessions = parse_sessions(args.session)
        flow, _name = open_flow(args)
        print_table(flow.cvd(args.interval, start, end, sessions), args)
        return 0

    return run_guarded("cvd", body)
