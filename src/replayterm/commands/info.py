"""``replayterm info FILE…``: what each data file holds (type, symbols, rows, time span, cache),
then each set of files of one symbol and type (several days): days, rows, span and gaps."""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from typing import Any

from replayterm.core.data import DataError, Kind, Source, format_time, open_sources, parse_time
from replayterm.core.data.stats import exchange_span, snapshot_runs


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "info",
        help="describe data files: type, symbols, rows, time span, snapshots, cache",
        description="Describe data files. A bad file is reported on stderr; the others are still shown.",
    )
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="Tardis CSV (.csv/.csv.gz), Parquet, Arrow, Databento MBO (.dbn/.dbn.zst), LOBSTER "
        "message file, or a raw recording: a tardis-dev cache folder, an hftbacktest collector "
        "capture (.gz) or a cryptofeed recording (.jsonl.zst)",
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument(
        "--from", dest="from_ts", metavar="TIME", help="only rows with local time >= TIME (UTC)"
    )
    parser.add_argument("--to", dest="to_ts", metavar="TIME", help="only rows with local time < TIME (UTC)")
    parser.add_argument("--no-cache", action="store_true", help="read the files without the Arrow cache")
    parser.add_argument(
        "--check",
        action="store_true",
        help="open the files together and check them: per instrument what the replay gets from "
        "them, every sequence gap of a raw recording (where, how long, how it recovered), and the "
        "rebuilt L2 top of book against a book_ticker/quotes file of the same symbol",
    )
    parser.set_defaults(func=run)


def _span(first: int, last: int) -> dict[str, Any]:
    return {
        "first": format_time(first),
        "last": format_time(last),
        "first_us": first,
        "last_us": last,
        "span_s": round((last - first) / 1e6, 6),
    }


def describe(source: Source) -> dict[str, Any]:
    local = source.time_span()
    exchange = exchange_span(source)
    runs = snapshot_runs(source)
    # A book_snapshot_N file row is one snapshot; it is stored as up to 2N level rows.
    file_rows = runs if source.kind is Kind.BOOK_SNAPSHOT and runs is not None else source.rows
    return {
        "type": source.label.rsplit(" ", 1)[-1],
        "exchange": source.exchange,
        "symbol": source.symbol,
        "rows": file_rows,
        "level_rows": source.rows if source.kind is Kind.BOOK_SNAPSHOT else None,
        "local_time": _span(*local) if local else None,
        "exchange_time": _span(*exchange) if exchange else None,
        "snapshot_depth": source.snapshot_depth,
        "snapshot_runs": runs,
        "rows_before_snapshot": source.rows_before_snapshot if source.is_book else None,
        "unsorted_rows": source.unsorted_rows,
        "warnings": list(source.warnings),
        "cache": source.cache_state,
        "market_by_order": _orders(source),
    }


def _orders(source: Source) -> dict[str, Any] | None:
    """What an MBO file's order-by-order data holds (None for L2 files)."""
    data = source.orders
    if data is None:
        return None
    counters = dict(data.counters or {})
    return {"records": data.events.n_records, "orders": data.events.n_orders, **counters}


def _text(report: dict[str, Any]) -> str:
    out = [report["file"]]
    symbols = sorted({s["symbol"] for s in report["sources"]})
    if len(symbols) > 1:
        out.append(f"  symbols           {', '.join(symbols)}")
    for s in report["sources"]:
        out.append(f"  {s['exchange']} {s['symbol']}  {s['type']}")
        levels = f"  ({s['level_rows']:,} levels)" if s.get("level_rows") is not None else ""
        out.append(f"    rows              {s['rows']:,}{levels}")
        for label, key in (("local time", "local_time"), ("exchange time", "exchange_time")):
            span = s[key]
            if span:
                out.append(f"    {label:<17} {span['first']} .. {span['last']}  ({span['span_s']:.3f} s)")
        if s["snapshot_runs"] is not None:
            out.append(f"    snapshot runs     {s['snapshot_runs']:,}")
            out.append(f"    before snapshot   {s['rows_before_snapshot']:,} rows")
        mbo = s.get("market_by_order")
        if mbo:
            out.append(
                f"    market-by-order   {mbo['records']:,} records, {mbo['orders']:,} orders "
                f"({mbo.get('live_orders_at_end', 0):,} resting at the end); L2 rows derived per end of event"
            )
            if mbo.get("crossed_events"):
                out.append(
                    f"    crossed book      {mbo['crossed_events']:,} ends of event (orders accepted without "
                    "matching, as in a pre-open auction)"
                )
        late = s["unsorted_rows"]
        out.append(f"    late rows         {late:,}  (receive time stepped back; file order kept)")
        out.append(f"    cache             {s['cache']}")
        out.extend(f"    warning: {w}" for w in s["warnings"])
    return "\n".join(out)


# Between files of one set, a jump in receive time longer than this is reported as a gap.
GAP_S = 1.0


def describe_sets(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Files holding the same (exchange, symbol, type), e.g. several days: one set each.

    A set reports its files in time order, the UTC days they cover, the total rows, the whole
    span and the gaps (or overlaps) between consecutive files.
    """
    members: dict[tuple[str, str, str], list[tuple[str, dict[str, Any]]]] = {}
    for report in reports:
        for source in report.get("sources", []):
            if source["local_time"] is not None:
                key = (source["exchange"], source["symbol"], source["type"])
                members.setdefault(key, []).append((report["file"], source))
    sets = []
    for (exchange, symbol, kind), files in members.items():
        if len({name for name, _ in files}) < 2:
            continue
        files.sort(key=lambda item: item[1]["local_time"]["first_us"])
        first = files[0][1]["local_time"]["first_us"]
        last = max(s["local_time"]["last_us"] for _, s in files)
        days: set[str] = set()
        for _, s in files:
            day = s["local_time"]["first_us"] // 86_400_000_000
            while day <= s["local_time"]["last_us"] // 86_400_000_000:
                days.add(format_time(day * 86_400_000_000)[:10])
                day += 1
        gaps = []
        for (name_a, a), (name_b, b) in itertools.pairwise(files):
            jump = b["local_time"]["first_us"] - a["local_time"]["last_us"]
            if jump > GAP_S * 1e6 or jump < 0:
                gaps.append(
                    {
                        "after": name_a,
                        "before": name_b,
                        "from": a["local_time"]["last"],
                        "to": b["local_time"]["first"],
                        "seconds": round(jump / 1e6, 6),
                    }
                )
        sets.append(
            {
                "set": f"{exchange} {symbol} {kind}",
                "files": [name for name, _ in files],
                "days": sorted(days),
                "rows": sum(s["rows"] for _, s in files),
                "local_time": _span(first, last),
                "gaps": gaps,
            }
        )
    return sets


def _set_text(item: dict[str, Any]) -> str:
    span = item["local_time"]
    days = item["days"]
    out = [f"set: {item['set']}, {len(item['files'])} files"]
    out.append(
        f"  days              {len(days)} ({days[0]} .. {days[-1]})" if days else "  days              0"
    )
    out.append(f"  rows              {item['rows']:,}")
    out.append(f"  local time        {span['first']} .. {span['last']}  ({span['span_s']:.3f} s)")
    if not item["gaps"]:
        out.append(f"  gaps              none (no jump over {GAP_S:g} s between files)")
    for gap in item["gaps"]:
        what = "overlap" if gap["seconds"] < 0 else "gap"
        out.append(
            f"  {what:<17} {abs(gap['seconds']):.3f} s from {gap['from']} to {gap['to']}"
            f"  ({gap['after']} -> {gap['before']})"
        )
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    try:
        from_ts = None if args.from_ts is None else parse_time(args.from_ts)
        to_ts = None if args.to_ts is None else parse_time(args.to_ts)
    except ValueError as exc:
        print(f"replayterm info: {exc}", file=sys.stderr)
        return 2
    status = 0
    reports = []
    for name in args.files:
        try:
            sources = open_sources([name], from_ts=from_ts, to_ts=to_ts, use_cache=not args.no_cache)
        except DataError as exc:
            print(exc, file=sys.stderr)
            reports.append({"file": name, "error": str(exc)})
            status = 1
            continue
        report = {"file": name, "sources": [describe(s) for s in sources]}
        reports.append(report)
        if not args.json:
            print(_text(report), flush=True)
    sets = describe_sets(reports)
    if not args.json:
        for item in sets:
            print(_set_text(item), flush=True)
    if args.check:
        checks, check_status = _check(args.files, from_ts, to_ts, not args.no_cache, quiet=args.json)
        status = status or check_status
        if args.json:
            print(json.dumps({"files": reports, "sets": sets, "checks": checks}, indent=2))
            return status
    if args.json:
        print(json.dumps(reports + sets, indent=2))
    return status


def _is_raw(path: Any) -> bool:
    from replayterm.core.data.open import raw_format

    return raw_format(path) is not None


def _sequence_gaps(inst: Any) -> list[dict[str, Any]]:
    """Every sequence gap of an instrument's book (raw recordings): where, how long, why, how it
    recovered."""
    from replayterm.core.data.sources.raw.gaps import describe

    end = None
    if inst.book is not None and inst.book.events.n_groups:
        end = int(inst.book.events.group_ts[inst.book.events.n_groups - 1])
    out = []
    for g in inst.sequence_gaps:
        d = g.as_dict()
        d["duration_s"] = None if g.duration_us(end) is None else g.duration_us(end) / 1e6
        d["text"] = describe(g, end)
        out.append(d)
    return out


def _check(
    files: list[str], from_ts: int | None, to_ts: int | None, use_cache: bool, *, quiet: bool
) -> tuple[list[dict[str, Any]], int]:
    """Every instrument of the files opened together: what it holds, and the BBO check."""
    from replayterm.core.replay.coverage import instrument_contents
    from replayterm.core.replay.instruments import build_instruments
    from replayterm.core.replay.top_of_book import BboCheck, bbo_check_of

    try:
        sources = open_sources(files, from_ts=from_ts, to_ts=to_ts, use_cache=use_cache)
        instruments = build_instruments(sources)
    except DataError as exc:
        print(exc, file=sys.stderr)
        return [], 1
    out: list[dict[str, Any]] = []
    lines = ["", "check (files opened together)"]
    for inst in instruments:
        contents = instrument_contents(inst)
        check = bbo_check_of(inst)
        entry: dict[str, Any] = {"instrument": inst.name, "contents": contents, "notes": list(inst.notes)}
        lines.append(f"  {inst.name}")
        lines.extend(f"    {line}" for line in contents)
        lines.extend(f"    note: {n}" for n in inst.notes)
        gaps = _sequence_gaps(inst)
        entry["sequence_gaps"] = gaps
        book_files = {
            s.path for s in sources if s.is_book and (s.exchange, s.symbol) == (inst.exchange, inst.symbol)
        }
        if any(_is_raw(p) for p in book_files):
            lines.append(
                f"    sequence gaps     {len(gaps)}" + ("" if gaps else "  (in sequence throughout)")
            )
        lines.extend(f"      {g['text']}" for g in gaps)
        if check is not None:
            entry["bbo_check"] = check.to_json()
            lines.append(f"    {check.summary_line().split(': ', 1)[1]}")
            lines.append(f"      what it means: {BboCheck.EXPLANATION}")
            for m in check.first_mismatches[:5]:
                lines.append(
                    f"      mismatch at {format_time(int(m['local_ts']))}: book {m['book_bid']:g} / "
                    f"{m['book_ask']:g}, ticker {m['ticker_bid']:g} / {m['ticker_ask']:g}"
                )
        out.append(entry)
    if not quiet:
        print("\n".join(lines), flush=True)
    return out, 0
