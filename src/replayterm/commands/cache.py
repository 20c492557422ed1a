"""``replayterm cache list|clear``: what the conversion cache holds, and freeing it."""

from __future__ import annotations

import argparse
import json
import sys
import time

from replayterm.core.data import cache_admin
from replayterm.core.data.cache import ENV_DIR, cache_dir, human_bytes
from replayterm.core.data.timefmt import format_time


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cache",
        help="list or clear the cache of converted files",
        description=(
            "The first open of a file converts it to a memory-mapped Arrow file in the cache folder "
            f"({ENV_DIR} overrides the folder, {cache_admin.ENV_CAP} sets its size cap in GB, 0 = none; "
            "least recently used entries are removed beyond the cap)."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="entries: source file, type, rows, size on disk, last use")
    listing.add_argument("--json", action="store_true", help="print machine-readable JSON")
    listing.set_defaults(func=run_list)
    clearing = actions.add_parser("clear", help="remove entries (all, or those unused for DAYS days)")
    clearing.add_argument(
        "--older-than", type=float, metavar="DAYS", help="only entries not used for DAYS days (e.g. 7, 0.5)"
    )
    clearing.set_defaults(func=run_clear)


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.1f} days ago"


def run_list(args: argparse.Namespace) -> int:
    items = cache_admin.list_items()
    root = cache_dir()
    cap = cache_admin.cap_bytes()
    total = sum(i.size for i in items)
    if args.json:
        report = {
            "folder": str(root),
            "cap_bytes": cap,
            "total_bytes": total,
            "entries": [i.as_dict() for i in reversed(items)],
        }
        print(json.dumps(report, indent=2))
        return 0
    cap_text = human_bytes(cap) if cap is not None else "none"
    print(f"{root}: {len(items)} entries, {human_bytes(total)} (cap {cap_text})")
    now = time.time()
    for item in reversed(items):  # most recently used first
        if item.is_set:
            what = f"set of files  {item.name}"
        elif item.complete:
            rows = f"{item.rows:,} rows" if item.rows is not None else "? rows"
            what = f"{item.source or item.name + ' (older cache format)'}  ({item.kind}, {rows})"
        else:
            what = f"incomplete {item.name} (an unfinished or interrupted conversion)"
        used = format_time(int(item.last_use * 1e6))[:19].replace("T", " ")
        print(f"  {human_bytes(item.size):>9}  {used}  ({_age(now - item.last_use)})  {what}")
    return 0


def run_clear(args: argparse.Namespace) -> int:
    if args.older_than is not None and args.older_than < 0:
        print("replayterm cache clear: --older-than needs a number of days >= 0", file=sys.stderr)
        return 2
    older = None if args.older_than is None else args.older_than * 86400.0
    removed = cache_admin.clear(older)
    freed = sum(i.size for i in removed)
    print(f"removed {len(removed)} entries from {cache_dir()}, freed {human_bytes(freed)}")
    return 0
