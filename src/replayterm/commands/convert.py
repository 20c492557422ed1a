"""``replayterm convert FILE… --out DIR``: normalized tables as Parquet or Arrow, one file per source,
or (``--format tardis-csv``) Tardis CSV per day with Tardis's file names (raw recordings included)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from replayterm.core.data import DataError, open_sources, parse_time
from replayterm.core.data.write import FORMATS, output_name, write_source


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="write data files as normalized Parquet or Arrow tables (one file per symbol)",
        description="Convert data files to normalized Parquet/Arrow tables that ReplayTerm reads back.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="output folder (created if needed)"
    )
    parser.add_argument(
        "--format",
        choices=(*FORMATS, "tardis-csv"),
        default="parquet",
        help="output format (default: parquet); tardis-csv: Tardis.dev CSV per day, named as Tardis "
        "names its files (the inputs are opened together, so a raw recording's days stay one stream)",
    )
    parser.add_argument(
        "--from", dest="from_ts", metavar="TIME", help="only rows with local time >= TIME (UTC)"
    )
    parser.add_argument("--to", dest="to_ts", metavar="TIME", help="only rows with local time < TIME (UTC)")
    parser.add_argument("--no-cache", action="store_true", help="read the inputs without the Arrow cache")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        from_ts = None if args.from_ts is None else parse_time(args.from_ts)
        to_ts = None if args.to_ts is None else parse_time(args.to_ts)
        args.out.mkdir(parents=True, exist_ok=True)
    except (ValueError, OSError) as exc:
        print(f"replayterm convert: {exc}", file=sys.stderr)
        return 2
    if args.format == "tardis-csv":
        return _tardis_csv(args, from_ts, to_ts)
    status = 0
    for name in args.files:
        try:
            sources = open_sources([name], from_ts=from_ts, to_ts=to_ts, use_cache=not args.no_cache)
        except DataError as exc:
            print(exc, file=sys.stderr)
            status = 1
            continue
        for source in sources:
            target = args.out / output_name(source, len(sources) > 1, args.format)
            try:
                write_source(source, target, args.format)
            except OSError as exc:
                print(f"{target}: cannot write ({exc})", file=sys.stderr)
                status = 1
                continue
            print(f"{target}  {source.label}  {source.rows:,} rows")
    return status


def _tardis_csv(args: argparse.Namespace, from_ts: int | None, to_ts: int | None) -> int:
    from replayterm.core.data.tardis_csv import write_tardis_csv

    try:
        sources = open_sources(list(args.files), from_ts=from_ts, to_ts=to_ts, use_cache=not args.no_cache)
        written = write_tardis_csv(sources, args.out)
    except DataError as exc:
        print(exc, file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"replayterm convert: cannot write to {args.out} ({exc})", file=sys.stderr)
        return 1
    for path, rows in written:
        print(f"{path}  {rows:,} rows")
    return 0
