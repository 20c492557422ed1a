"""``replayterm explain RUN_DIR ORDER_ID``: the story of one order of a backtest, from the
``orders.jsonl`` the run wrote (``core.execution.facts``), ending with the sentence saying why."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from replayterm.core.execution.story import story


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="why an order of a backtest filled or did not",
        description="Print the life of one order of a backtest run (decision, arrival, queue ahead over "
        "time, trades at its price, fills, outcome) and one sentence saying why.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="the --out folder of 'replayterm backtest'")
    parser.add_argument("order_id", metavar="ORDER_ID", type=int)
    parser.add_argument("--strategy", help="which strategy, when several ran")
    parser.add_argument("--json", action="store_true", help="print the order's facts as JSON")
    parser.set_defaults(func=run)


def load_orders(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "orders.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: give the --out folder of a backtest run")
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def run(args: argparse.Namespace) -> int:
    try:
        orders = load_orders(Path(args.run_dir))
    except (OSError, ValueError) as exc:
        print(f"replayterm explain: {exc}", file=sys.stderr)
        return 1
    found = [o for o in orders if o["order_id"] == args.order_id and args.strategy in (None, o["strategy"])]
    if not found:
        ids = sorted({o["order_id"] for o in orders})
        span = f"{ids[0]}..{ids[-1]}" if ids else "none"
        print(f"replayterm explain: no order {args.order_id} in {args.run_dir} (ids {span})", file=sys.stderr)
        return 1
    if len(found) > 1:
        names = ", ".join(sorted({o["strategy"] for o in found}))
        print(f"replayterm explain: order {args.order_id} exists for several strategies ({names}): "
              "choose one with --strategy", file=sys.stderr)  # fmt: skip
        return 2
    order = found[0]
    print(json.dumps(order, indent=2) if args.json else story(order))
    return 0
