"""Compare ReplayTerm's computed book snapshots with tardis-node's own, row for row (not in CI).

The book_change stream that ``replayterm serve`` sends is fed to tardis-node's
``compute(…, computeBookSnapshots({depth, interval, removeCrossedLevels: true}))`` (npm
``tardis-dev``, installed into a temporary folder unless ``--tardis-dev DIR`` points at one),
and its snapshots are compared with the ``book_snapshot_{depth}_{interval}ms`` messages the
server computes from the same data: levels, ``timestamp`` and ``localTimestamp``.

    python scripts/validate_snapshots_tardis_node.py FILE… [--depth 10 --interval 0 100 1000]

Prints one JSON line per (symbol, depth, interval) with the row counts and matches.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from replayterm.serve import encode as enc
from replayterm.serve.catalog import Catalog
from replayterm.serve.options import parse_options
from replayterm.serve.stream import ReplayStream

HERE = Path(__file__).resolve().parent


def us(text: str) -> int:
    dt = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1_000_000 + dt.microsecond


def ensure_tardis_dev(folder: Path | None) -> Path:
    if folder is not None:
        return folder
    tmp = Path(tempfile.mkdtemp(prefix="tardis-dev-"))
    subprocess.run(["npm", "init", "-y"], cwd=tmp, check=True, capture_output=True)
    subprocess.run(["npm", "install", "tardis-dev", "--no-audit", "--no-fund"], cwd=tmp, check=True)
    return tmp


def ours(catalog: Catalog, exchange: str, symbol: str, types: list[str], disconnects: bool) -> list[dict]:
    options = {
        "exchange": exchange,
        "symbols": [symbol],
        "dataTypes": types,
        "withDisconnectMessages": disconnects,
    }
    stream = ReplayStream(parse_options(json.dumps(options), catalog))
    out = []
    while not stream.at_end:
        out.extend(json.loads(line) for line in enc.ndjson(stream.next_chunk()).splitlines())
    return out


def normalize(row: dict) -> dict:
    def side(levels: list) -> list:
        return [None if not lv else [lv["price"], lv["amount"]] for lv in levels]

    return {
        "bids": side(row["bids"]),
        "asks": side(row["asks"]),
        "timestamp": us(row["timestamp"]),
        "localTimestamp": us(row["localTimestamp"]),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="+")
    parser.add_argument("--depth", type=int, nargs="+", default=[1, 10, 25])
    parser.add_argument("--interval", type=int, nargs="+", default=[0, 10, 100, 1000], metavar="MS")
    parser.add_argument("--grouping", type=float, default=0.0, help="compare grouped snapshots of this step")
    parser.add_argument(
        "--disconnects",
        action="store_true",
        help="withDisconnectMessages (computations restart at re-snapshots)",
    )
    parser.add_argument("--tardis-dev", type=Path, help="folder holding node_modules/tardis-dev")
    args = parser.parse_args(argv)
    tardis_dir = ensure_tardis_dev(args.tardis_dev)
    catalog = Catalog.open(args.files)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for (exchange, symbol), market in catalog.markets.items():
            if market.book is None:
                continue
            specs = [(d, i) for d in args.depth for i in args.interval]
            group = f"grouped{args.grouping:g}_" if args.grouping else ""
            names = [f"book_snapshot_{d}_{group}{i}ms" for d, i in specs]
            messages = ours(catalog, exchange, symbol, ["book_change", *names], args.disconnects)
            changes = Path(tmp) / f"{symbol}.ndjson"
            changes.write_text(
                "".join(json.dumps(m) + "\n" for m in messages if m["type"] in ("book_change", "disconnect")),
                encoding="utf-8",
            )
            for (depth, interval), name in zip(specs, names, strict=True):
                mine = [normalize(m) for m in messages if m.get("name") == name]
                node = subprocess.run(
                    ["node", str(HERE / "validate_snapshots_tardis_node.mjs"), str(changes), str(depth), str(interval),
                     f"{args.grouping:g}"],
                    capture_output=True, text=True, check=True,
                    env={"PATH": "/usr/bin:/bin:/usr/local/bin", "TARDIS_DEV_DIR": str(tardis_dir / "node_modules")},
                )  # fmt: skip
                theirs = [json.loads(line) for line in node.stdout.splitlines() if line]
                equal = sum(a == b for a, b in zip(mine, theirs, strict=False))
                first_diff = next(
                    (k for k, (a, b) in enumerate(zip(mine, theirs, strict=False)) if a != b), None
                )
                ok = len(mine) == len(theirs) == equal
                failures += not ok
                report = {
                    "symbol": f"{exchange}:{symbol}", "depth": depth, "interval_ms": interval,
                    "grouping": args.grouping, "disconnects": args.disconnects,
                    "book_changes": sum(m["type"] == "book_change" for m in messages),
                    "rows_ours": len(mine), "rows_tardis_node": len(theirs), "identical_rows": equal,
                    "identical": ok,
                }  # fmt: skip
                if first_diff is not None:
                    report["first_difference"] = {
                        "row": first_diff,
                        "ours": mine[first_diff],
                        "tardis": theirs[first_diff],
                    }
                print(json.dumps(report), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
