"""Shared parts of the order-flow commands (``bars``, ``footprint``, ``profile``, ``cvd``, ``vwap``):
arguments, opening the trades, and printing a ``Table`` as text, CSV or JSON."""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from replayterm.commands._common import TerminalProgress, open_instruments
from replayterm.core.data import DataError, format_time, parse_time
from replayterm.core.data.numfmt import plain
from replayterm.core.flow import GridError, OrderFlow, SpecError, Table, parse_interval


class UsageError(ValueError):
    """Bad arguments: printed as one line, exit code 2."""


def add_common(parser: argparse.ArgumentParser, interval: bool = True) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="trades files (Tardis CSV, Parquet, …)")
    if interval:
        parser.add_argument(
            "--interval",
            default="1m",
            metavar="SPEC",
            help="bar size: 1s…1d (time, UTC-aligned), 100t (trades), 10v (volume), 1Mn (notional); "
            "default 1m",
        )
    parser.add_argument(
        "--from", dest="start", metavar="TIME", help="first receive time (ISO-8601 UTC or µs)"
    )
    parser.add_argument("--to", dest="end", metavar="TIME", help="last receive time (inclusive)")
    parser.add_argument("--symbol", help="which symbol, when the files hold several")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--csv", action="store_true", help="print CSV")
    out.add_argument("--json", action="store_true", help="print JSON")


def time_range(args: argparse.Namespace) -> tuple[int | None, int | None]:
    try:
        start = None if args.start is None else parse_time(args.start)
        end = None if args.end is None else parse_time(args.end)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if start is not None and end is not None and end < start:
        raise UsageError("--to is before --from")
    return start, end


def open_flow(args: argparse.Namespace) -> tuple[OrderFlow, str]:
    if getattr(args, "interval", None) is not None:
        parse_interval(args.interval)  # a bad interval is said before any file is read
    instruments = open_instruments(args.files)
    found = [
        i for i in instruments if i.trades is not None and len(i.trades) and args.symbol in (None, i.symbol)
    ]
    if not found:
        what = f"symbol {args.symbol}" if args.symbol else "these files"
        raise UsageError(f"no trades for {what}: order flow is computed from a trades file (Tardis 'trades')")
    if len(found) > 1 and args.symbol is None:
        names = ", ".join(i.symbol for i in found)
        raise UsageError(f"the files hold trades of several symbols ({names}); pick one with --symbol")
    inst = found[0]
    bar = TerminalProgress("indexing order flow")
    try:
        # the trades' own grid, as the app uses: both then read and write the same stored table
        flow = OrderFlow.open(inst.trades, inst.trade_sources, progress=bar)
    finally:
        bar.done()
    return flow, inst.name


def run_guarded(name: str, body: Callable[[], int]) -> int:
    """Run a command body: bad input is one clear line on stderr, never a traceback."""
    try:
        return body()
    except (UsageError, SpecError) as exc:
        print(f"replayterm {name}: {exc}", file=sys.stderr)
        return 2
    except (DataError, GridError, OSError) as exc:
        print(f"replayterm {name}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # pragma: no cover - `| head`
        return 0


def _cell(name: str, value: Any) -> Any:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if name.endswith("_us") and value is not None:
        return int(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return plain(value)
    return str(value)


def with_times(table: Table) -> tuple[list[str], list[list[Any]]]:
    """Column names and rows, each ``*_us`` time preceded by its ISO-8601 form."""
    names: list[str] = []
    for n in table.columns:
        if n.endswith("_us"):
            names.append(n[:-3])
        names.append(n)
    rows = []
    for row in table.rows():
        out: list[Any] = []
        for n, v in row.items():
            v = _cell(n, v)
            if n.endswith("_us"):
                out.append(format_time(v))
            out.append(v)
        rows.append(out)
    return names, rows


def print_table(table: Table, args: argparse.Namespace, header: dict[str, Any] | None = None) -> None:
    names, rows = with_times(table)
    if args.json:
        doc: Any = [dict(zip(names, r, strict=True)) for r in rows]
        if header is not None:
            doc = {**{k: _cell(k, v) for k, v in header.items()}, "rows": doc}
        print(json.dumps(doc, indent=1, allow_nan=False))
        return
    if args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(names)
        for r in rows:
            writer.writerow([_text(v) for v in r])
        return
    if header is not None:
        for k, v in header.items():
            label = k[:-3] if k.endswith("_us") else k
            shown = format_time(v) if k.endswith("_us") and v is not None else _text(_cell(k, v))
            print(f"{label:>12}: {shown}")
    shown_names = [n for n in names if not n.endswith("_us")]
    keep = [i for i, n in enumerate(names) if not n.endswith("_us")]
    text_rows = [[_text(r[i]) for i in keep] for r in rows]
    widths = [max([len(n)] + [len(r[c]) for r in text_rows]) for c, n in enumerate(shown_names)]
    print("  ".join(n.rjust(w) for n, w in zip(shown_names, widths, strict=True)))
    for r in text_rows:
        print("  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)))
