"""``replayterm vwap FILES --interval 1m``: session (or anchored) VWAP with ±1σ/±2σ bands per bar."""

from __future__ import annotations

import argparse

from replayterm.commands._flow import UsageError, add_common, open_flow, print_table, run_guarded, time_range
from replayterm.core.data import parse_time
from replayterm.core.flow import parse_sessions


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "vwap",
        help="session or anchored VWAP with ±1σ and ±2σ bands, after each bar",
        description="Volume-weighted average price after each bar, accumulated from the session start "
        "(or from --anchor), with the volume-weighted standard deviation bands.",
    )
    add_common(parser)
    parser.add_argument(
        "--session", default="utc", metavar="HH:MM", help="session start (UTC), default midnight"
    )
    parser.add_argument("--anchor", metavar="TIME", help="accumulate from this moment instead of the session")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    def body() -> int:
        start, end = time_range(args)
        sessions = parse_sessions(args.session)
        try:
            anchor = None if args.anchor is None else parse_time(args.anchor)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        flow, _name = open_flow(args)
        print_table(flow.vwap(args.interval, start, end, sessions, anchor), args)
        return 0

    return run_guarded("vwap", body)
