"""``replayterm profile FILES --from T --to T``: volume profile with POC, value area and buy/sell."""

from __future__ import annotations

import argparse
import json

from replayterm.commands._flow import UsageError, add_common, open_flow, print_table, run_guarded, time_range
from replayterm.core.flow import parse_sessions


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "profile",
        help="volume profile of a range (or per session): POC, value area, buy/sell per price",
        description="Volume at each price row of the trades between --from and --to (the whole data "
        "by default): point of control, value area high/low and the buy/sell split per price. With "
        "--sessions, one profile per session, each saying whether its POC is still naked.",
    )
    add_common(parser, interval=False)
    parser.add_argument(
        "--group-ticks", type=int, default=1, metavar="N", help="ticks per price row (default 1)"
    )
    parser.add_argument(
        "--value-area", type=float, default=0.7, metavar="SHARE", help="value area share (default 0.7)"
    )
    parser.add_argument(
        "--sessions",
        nargs="?",
        const="utc",
        metavar="HOURS",
        help="one profile per session: UTC days (default), 'HH:MM' (days starting then) or 'HH:MM-HH:MM'",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    def body() -> int:
        if args.group_ticks < 1:
            raise UsageError("--group-ticks must be 1 or more")
        if not 0 < args.value_area <= 1:
            raise UsageError("--value-area is a share between 0 and 1 (0.7 = 70 %)")
        start, end = time_range(args)
        flow, _name = open_flow(args)
        if args.sessions is None:
            result = flow.profile(start, end, args.group_ticks, args.value_area)
            print_table(result.table(), args, result.summary())
            return 0
        sessions = parse_sessions(args.sessions)
        profiles = flow.session_profiles(sessions, start, end, args.group_ticks, args.value_area)
        if args.json:
            from replayterm.commands._flow import with_times

            docs = []
            for result, naked in profiles:
                names, rows = with_times(result.table())
                docs.append(
                    {
                        **result.summary(),
                        "naked_poc": naked,
                        "rows": [dict(zip(names, r, strict=True)) for r in rows],
                    }
                )
            print(json.dumps(docs, indent=1, allow_nan=False))
            return 0
        for i, (result, naked) in enumerate(profiles):
            if i and not args.csv:
                print()
            print_table(result.table(), args, None if args.csv else {**result.summary(), "naked_poc": naked})
        return 0

    return run_guarded("profile", body)
