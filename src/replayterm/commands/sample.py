"""``replayterm sample OUT_DIR``: write a synthetic Tardis-format market (book, trades, BBO).

``replayterm sample --bundled`` prints the paths of the sample installed with the package.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from replayterm import bundled
from replayterm.core.data.synthetic import generate_files
from replayterm.core.data.timefmt import format_time


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sample",
        help="generate a synthetic market as Tardis CSV files (incremental_book_L2, trades, book_ticker)",
        description="Simulate one symbol's order book and write it as Tardis.dev CSV files. "
        "The same arguments always give the same bytes.",
    )
    parser.add_argument(
        "out_dir", type=Path, nargs="?", metavar="OUT_DIR", help="output folder (created if needed)"
    )
    parser.add_argument(
        "--bundled",
        action="store_true",
        help="print the installed sample's file paths, one per line, instead of generating one",
    )
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, metavar="N", help="minutes of market time (default: 10)")
    length.add_argument(
        "--rows", type=int, metavar="N", help="stop after about N incremental_book_L2 rows instead"
    )
    parser.add_argument("--seed", type=int, default=7, metavar="S", help="random seed (default: 7)")
    parser.add_argument("--symbol", default="SYNTHUSD", metavar="SYM", help="symbol (default: SYNTHUSD)")
    parser.add_argument(
        "--exchange", default="synthetic", metavar="EX", help="exchange name (default: synthetic)"
    )
    parser.add_argument(
        "--start",
        default="2024-01-02T00:00:00Z",
        metavar="TIME",
        help="start time, ISO-8601 UTC (default: 2024-01-02T00:00:00Z)",
    )
    parser.add_argument(
        "--derivatives",
        action="store_true",
        help="also write derivative_ticker (mark, index, funding every 5 min, open interest) and "
        "liquidations files, as for a perpetual future",
    )
    parser.set_defaults(func=run)


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.2f} MB"


def print_bundled() -> int:
    files = bundled.sample_files()
    if not files:
        print("replayterm sample: this installation has no bundled sample", file=sys.stderr)
        return 1
    for path in files:
        print(path)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.bundled:
        if args.out_dir is not None:
            print("replayterm sample: give OUT_DIR or --bundled, not both", file=sys.stderr)
            return 2
        return print_bundled()
    if args.out_dir is None:
        print("replayterm sample: give OUT_DIR (where to write) or --bundled", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        result = generate_files(
            args.out_dir,
            minutes=args.minutes,
            target_book_rows=args.rows,
            seed=args.seed,
            symbol=args.symbol,
            exchange=args.exchange,
            start=args.start,
        )
    except ValueError as exc:
        print(f"replayterm sample: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"replayterm sample: cannot write to {args.out_dir} ({exc})", file=sys.stderr)
        return 1
    if args.derivatives:
        from replayterm.core.data.synthetic.derivatives import write_derivatives

        try:
            extra = write_derivatives(
                result.trades,
                args.out_dir,
                exchange=args.exchange,
                symbol=args.symbol,
                day=result.trades.name.split("_trades_")[1][:10],
                seed=args.seed,
            )
        except (OSError, ValueError) as exc:
            print(f"replayterm sample: cannot write the derivative files ({exc})", file=sys.stderr)
            return 1
        print(f"{extra.derivative_ticker}  {extra.ticker_rows:,} rows")
        print(f"{extra.liquidations}  {extra.liquidation_rows:,} rows")
    elapsed = time.perf_counter() - started
    print(f"{result.book}  {result.book_rows:,} rows  {_size(result.book)}")
    print(f"{result.trades}  {result.trade_rows:,} rows  {_size(result.trades)}")
    print(f"{result.book_ticker}  {result.book_ticker_rows:,} rows  {_size(result.book_ticker)}")
    print(
        f"{format_time(result.first_local_ts)} -> {format_time(result.last_local_ts)}  "
        f"{result.book_messages:,} book messages, snapshots: {result.snapshots}  ({elapsed:.1f} s)"
    )
    return 0
