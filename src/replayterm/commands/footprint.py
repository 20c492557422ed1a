"""``replayterm footprint FILES --interval 1m --group-ticks N``: bid×ask volume per bar and price row."""

from __future__ import annotations

import argparse

from replayterm.commands._flow import UsageError, add_common, open_flow, print_table, run_guarded, time_range


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "footprint",
        help="footprint (cluster) bars: bid×ask volume, delta and imbalances per price row",
        description="Per bar and price row (N ticks): volume sold into the bid and bought at the ask, "
        "delta, total, trades, diagonal imbalances (ask vs the bid one row below, bid vs the ask one "
        "row above, at RATIO:1), stacked imbalances (STACK rows or more) and each bar's point of control.",
    )
    add_common(parser)
    parser.add_argument(
        "--group-ticks", type=int, default=1, metavar="N", help="ticks per price row (default 1)"
    )
    parser.add_argument("--ratio", type=float, default=3.0, help="imbalance ratio (default 3 = 3:1)")
    parser.add_argument("--stack", type=int, default=3, help="rows that make a stacked imbalance (default 3)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    def body() -> int:
        if args.group_ticks < 1:
            raise UsageError("--group-ticks must be 1 or more")
        if args.ratio <= 0 or args.stack < 1:
            raise UsageError("--ratio must be positive and --stack 1 or more")
        start, end = time_range(args)
        flow, _name = open_flow(args)
        _fp, table = flow.footprint(args.interval, start, end, args.group_ticks, args.ratio, args.stack)
        print_table(table, args)
        return 0

    return run_guarded("footprint", body)
