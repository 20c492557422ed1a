"""``replayterm book FILE --at TIME``: the order book at one moment, through the replay engine."""

from __future__ import annotations

import argparse
import json
import math
import sys

from replayterm.commands._common import open_instruments
from replayterm.core.data import DataError, format_time, parse_time, parse_time_in
from replayterm.core.data.numfmt import derived, plain
from replayterm.core.data.timefmt import TIME_OF_DAY
from replayterm.core.replay.cursor import ReplayCursor


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "book",
        help="print the order book at a moment",
        description="Rebuild the book from FILEs and print it as it stood after every message "
        "received at or before TIME.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument(
        "--at",
        required=True,
        metavar="TIME",
        help="ISO-8601 UTC, µs, or a time of day (HH:MM[:SS]) on the date of the data",
    )
    parser.add_argument("--depth", type=int, default=10, metavar="N")
    parser.add_argument("--symbol", help="which symbol, when the files hold several")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    time_of_day = TIME_OF_DAY.fullmatch(args.at.strip()) is not None
    try:  # a time of day is resolved on the data's date, once the files are open
        at = 0 if time_of_day else parse_time(args.at)
    except ValueError as exc:
        print(f"replayterm book: {exc}", file=sys.stderr)
        return 2
    try:
        instruments = open_instruments(args.files)
    except DataError as exc:
        print(f"replayterm book: {exc}", file=sys.stderr)
        return 1
    books = [i for i in instruments if i.book is not None and args.symbol in (None, i.symbol)]
    if not books:
        print("replayterm book: no order book for that symbol in these files", file=sys.stderr)
        return 1
    cursor = ReplayCursor(books)
    if time_of_day:
        ts = cursor.timeline.ts
        try:
            at = parse_time_in(args.at, (int(ts[0]), int(ts[-1])) if len(ts) else (0, 0))
        except ValueError as exc:
            print(f"replayterm book: {exc}", file=sys.stderr)
            return 2
    cursor.seek(at)
    out = []
    for inst in books:
        assert inst.book is not None
        book = inst.book.book
        top = book.top_stats(5)
        touch = (top.best_bid, top.best_ask)
        out.append(
            {
                "exchange": inst.exchange,
                "symbol": inst.symbol,
                "at": format_time(at),
                "at_us": at,
                "messages_applied": inst.book.position,
                "last_message_us": inst.book.ts,
                "bids": book.levels(1, args.depth).tolist(),
                "asks": book.levels(-1, args.depth).tolist(),
                "bid_levels": book.level_count(1),
                "ask_levels": book.level_count(-1),
                "mid": _finite(derived(top.mid, *touch, extra=1)),
                "spread": _finite(derived(top.spread, *touch)),
                "crossed_removals": book.crossed_removals,
            }
        )
    if args.json:
        print(json.dumps(out if len(out) > 1 else out[0], indent=2, allow_nan=False, default=str))
        return 0
    for item in out:
        _print_book(item)
    return 0


def _print_book(item: dict) -> None:
    print(
        f"{item['exchange']} {item['symbol']} at {item['at']}  ({item['messages_applied']} messages applied)"
    )
    mid = "-" if item["mid"] is None else plain(item["mid"])
    spread = "-" if item["spread"] is None else plain(item["spread"])
    print(f"levels: {item['bid_levels']} bids / {item['ask_levels']} asks   mid {mid}   spread {spread}")
    print(f"{'bid size':>14} {'price':>14}   {'ask size':<14}")
    for price, amount in reversed(item["asks"]):
        print(f"{'':>14} {plain(price):>14}   {plain(amount):<14}")
    for price, amount in item["bids"]:
        print(f"{plain(amount):>14} {plain(price):>14}")


def _finite(x: float) -> float | None:
    return None if math.isnan(x) else x
