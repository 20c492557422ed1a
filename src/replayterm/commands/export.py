"""``replayterm export``: computed book snapshots (top N levels sampled on an interval) as Tardis CSV,
or (``--to postgresql://…``) the files' rows as Tardis-shaped database tables."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from replayterm.commands._common import TerminalProgress, check_time_range, open_instruments
from replayterm.core.data import DataError, parse_time
from replayterm.core.data.postgres.writer import IF_EXISTS
from replayterm.core.replay.export import export_book_snapshots


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="write computed book snapshots (Tardis book_snapshot_N columns) to CSV",
        description="Rebuild the book from FILEs and write its top DEPTH levels as Tardis "
        "book_snapshot_N rows, computed like tardis-machine's book_snapshot_{DEPTH}_{MS}ms "
        "(--axis exchange, the default) or on receive-time buckets (--axis local).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="""conventions:
  --axis exchange (default, identical to tardis-machine / tardis-node computeBookSnapshots)
      Buckets of exchange time (timestamp). A row is written when a message arrives in a later
      bucket and the top levels changed since the last row: timestamp = the end of the previous
      bucket, local_timestamp = receive time of that closing message, levels = the book before
      it. The first row comes right after the opening snapshot; the last, unclosed bucket
      writes nothing; a top that changed and changed back inside a bucket writes a repeated row.
      --interval 0: a row after every message that changed the top levels.
  --axis local (the older convention)
      Buckets of receive time (local_timestamp). One row per bucket that has messages, showing
      the book after the bucket's last message, only when the top levels differ from the
      previous row; timestamp/local_timestamp are those of that last message.
      --interval 0: a row after every message that changed the top levels.
--from/--to select messages by receive time; with --axis exchange a --from inside the file
starts with the book at that moment as the opening snapshot.

to a database (--to postgresql://USER@HOST/DB --table NAME)
      Writes the files' rows, not snapshots: one table per data type (NAME, or NAME_<type> when
      the files hold several), Tardis's columns plus seq (arrival order), with COPY; a hypertable
      when the TimescaleDB extension is installed. Read it back with
      'postgresql://USER@HOST/DB?table=NAME&symbol=SYMBOL' wherever a FILE is accepted. The
      password comes from the URL or PGPASSWORD.""",
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--book-snapshot", dest="depth", type=int, metavar="DEPTH")
    parser.add_argument("--interval", type=int, metavar="MS", help="0 = on every change")
    parser.add_argument(
        "--axis",
        choices=("exchange", "local"),
        default="exchange",
        help="bucket on exchange time like tardis-machine (default) or on receive time; see below",
    )
    parser.add_argument("--from", dest="from_ts", metavar="TIME", help="ISO-8601 UTC or µs")
    parser.add_argument(
        "--to",
        dest="to_ts",
        action="append",
        metavar="TIME|postgresql://…",
        help="ISO-8601 UTC or µs (exclusive); a postgresql:// URL writes the rows to that database "
        "instead (both may be given: --to TIME --to URL)",
    )
    parser.add_argument("--out", type=Path, metavar="OUT.csv[.gz]")
    parser.add_argument("--table", metavar="NAME", help="with --to postgresql://…: the table to write")
    parser.add_argument(
        "--if-exists",
        choices=IF_EXISTS,
        default="fail",
        help="with --to postgresql://…, when the table exists: stop (default), replace it, or append to it",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from replayterm.core.data.postgres import is_database_url

    given = args.to_ts or []
    targets = [v for v in given if is_database_url(v)]
    times = [v for v in given if not is_database_url(v)]
    args.to_ts = times[-1] if times else None
    args.to = targets[-1] if targets else None
    if args.to is not None:
        return _run_database(args)
    if args.depth is None or args.interval is None or args.out is None:
        print(
            "replayterm export: give --book-snapshot DEPTH --interval MS --out FILE "
            "(or --to postgresql://… --table NAME to write the rows to a database)",
            file=sys.stderr,
        )
        return 2
    if args.depth < 1 or args.interval < 0:
        print("replayterm export: DEPTH must be >= 1 and --interval >= 0", file=sys.stderr)
        return 2
    try:
        lo = None if args.from_ts is None else parse_time(args.from_ts)
        hi = None if args.to_ts is None else parse_time(args.to_ts)
        check_time_range(args.from_ts, lo, args.to_ts, hi)
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
            axis=args.axis,
        )
    except OSError as exc:
        print(f"replayterm export: cannot write {args.out}: {exc}", file=sys.stderr)
        return 1
    finally:
        bar.done()
    took = time.perf_counter() - started
    print(f"wrote {result.rows} rows to {result.path} ({result.messages} messages sampled, {took:.2f} s)")
    return 0


def _run_database(args: argparse.Namespace) -> int:
    from replayterm.core.data import open_sources
    from replayterm.core.data.postgres.writer import write_tables

    if not args.table:
        print("replayterm export: --to postgresql://… needs --table NAME", file=sys.stderr)
        return 2
    started = time.perf_counter()
    bar = TerminalProgress("exporting")
    try:
        sources = open_sources(
            list(args.files), from_ts=args.from_ts, to_ts=args.to_ts, progress=lambda f, m: bar(0.5 * f, m)
        )
        written = write_tables(
            sources, args.to, args.table, args.if_exists, progress=lambda f, m: bar(0.5 + 0.5 * f, m)
        )
    except DataError as exc:
        print(f"replayterm export: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"replayterm export: {exc}", file=sys.stderr)
        return 2
    finally:
        bar.done()
    took = time.perf_counter() - started
    for w in written:
        shape = "hypertable" if w.hypertable else "table"
        print(f"wrote {w.rows} {w.kind.value} rows to {shape} {w.table}")
    print(f"done in {took:.2f} s")
    return 0
