"""``replayterm export``: computed book snapshots (top N levels sampled on an interval) as Tardis CSV."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from replayterm.commands._common import TerminalProgress, open_instruments
from replayterm.core.data import DataError, parse_time
from replayterm.core.replay.export import export_book_snapshots


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write computed book snapshots (Tardis book_snapshot_N columns) to CSV",
        description="Rebuild the book from FILEs and write its top DEPTH levels as Tardis "
        "book_snapshot_N rows: one per interval when the top levels changed, or with --interval 0 "
        "one after every message that changed them. Times are on the receive-time axis.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--book-snapshot", dest="depth", type=int, required=True, metavar="DEPTH")
    parser.add_argument("--interval", type=int, required=True, metavar="MS", help="0 = on every change")
    parser.add_argument("--from", dest="from_ts", metavar="TIME", help="ISO-8601 UTC or µs")
    parser.add_argument("--to", dest="to_ts", metavar="TIME", help="ISO-8601 UTC or µs (exclusive)")
    parser.add_argument("--out", required=True, type=Path, metavar="OUT.csv[.gz]")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.depth < 1 or args.interval < 0:
        print("replayterm export: DEPTH must be >= 1 and --interval >= 0", file=sys.stderr)
        return 2
    try:
        lo = None if args.from_ts is None else parse_time(args.from_ts)
        hi = None if args.to_ts is None else parse_time(args.to_ts)
    except ValueError as exc:
        print(f"replayterm export: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        instruments = open_instruments(args.files)
    except DataError as exc:
        print(f"replayterm export: {exc}", file=sys.stderr)
        return 1
    if not any(inst.book is not None for inst in instruments):
        print(
            "replayterm export: no order book in these files (give an incremental_book_L2 file)",
            file=sys.stderr,
        )
        return 1
    bar = TerminalProgress("exporting")
    try:
        result = export_book_snapshots(
            instruments,
            args.out,
            depth=args.depth,
            interval_ms=args.interval,
            from_ts=lo,
            to_ts=hi,
            progress=bar,
        )
    except OSError as exc:
        print(f"replayterm export: cannot write {args.out}: {exc}", file=sys.stderr)
        return 1
    finally:
        bar.done()
    took = time.perf_counter() - started
    print(f"wrote {result.rows} rows to {result.path} ({result.messages} messages sampled, {took:.2f} s)")
    return 0
