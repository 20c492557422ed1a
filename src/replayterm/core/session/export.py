"""Writing a session's strategy results to a folder: CSV tables and a JSON summary.

``fills.csv``   strategy, instrument, order_id, ts (µs, when the strategy heard of it), exch_ts (µs,
                when it happened), time (ISO of exch_ts), side (buy/sell), price, amount, fee,
                liquidity, leaves
``equity.csv``  strategy, instrument, ts, position, avg_price, realized, unrealized, fees, net,
                equity, mark, funding. A strategy trading several instruments has rows per
                instrument plus rows with instrument "total" (PnL summed; position and mark of
                its first instrument)
``funding.csv`` strategy, instrument, ts, time, position, mark, rate, amount (received; < 0 paid)
``signals.csv`` strategy, ts, time, kind, strength, price (mid at that time), meta (JSON)
``plots.csv``   strategy, series, ts, value
``orders.csv``  strategy, instrument and the facts of every order (``execution.facts``): decided and
                arrival time, entry latency, queue model, queue ahead at arrival and at the end,
                time in queue, trades at its price, fills, outcome and the one-sentence reason
``orders.jsonl`` the same per order plus its whole life: the queue-ahead step curve, the trades at
                its price and each fill (what ``replayterm explain`` and the inspector show)
``summary.json`` {"run": …, "strategies": [status, params, error, metrics per strategy]}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from replayterm.core.data.timefmt import format_time
from replayterm.core.session.session import ReplaySession
from replayterm.core.session.views import StrategyHandle
from replayterm.core.strategy.records import EQUITY_COLUMNS


def _iso(ts: np.ndarray) -> pa.Array:
    return pa.array([format_time(int(t)) for t in ts.tolist()], pa.string())


PLOTS_SCHEMA = pa.schema(
    [("strategy", pa.string()), ("series", pa.string()), ("ts", pa.int64()), ("value", pa.float64())]
)


def _concat(tables: list[pa.Table], schema: pa.Schema) -> pa.Table:
    return pa.concat_tables(tables) if tables else schema.empty_table()


def fills_table(session: ReplaySession, handles: Sequence[StrategyHandle]) -> pa.Table:
    parts = []
    names = [inst.name for inst in session.instruments]
    for h in handles:
        f = session.fills(h)
        parts.append(
            pa.table(
                {
                    "strategy": pa.array([h.name] * len(f), pa.string()),
                    "instrument": pa.array([names[int(i)] for i in f["instrument"]], pa.string()),
                    "order_id": f["order_id"],
                    "ts": f["ts"],
                    "exch_ts": f["exch_ts"],
                    "time": _iso(f["exch_ts"]),
                    "side": pa.array(np.where(f["side"] > 0, "buy", "sell").tolist(), pa.string()),
                    "price": f["price"],
                    "amount": f["amount"],
                    "fee": f["fee"],
                    "liquidity": pa.array(np.where(f["maker"], "maker", "taker").tolist(), pa.string()),
                    "leaves": f["leaves"],
                }
            )
        )
    return _concat(parts, pa.schema([("strategy", pa.string())]))


def equity_table(session: ReplaySession, handles: Sequence[StrategyHandle]) -> pa.Table:
    parts = []
    for h in handles:
        names = session.instruments_of(h)
        logs = [("total" if len(names) > 1 else names[0], session.equity(h))]
        if len(names) > 1:
            logs += [(name, session.leg_equity(h, name)) for name in names]
        for inst, e in logs:
            cols: dict[str, Any] = {
                "strategy": pa.array([h.name] * len(e), pa.string()),
                "instrument": pa.array([inst] * len(e), pa.string()),
            }
            cols.update({name: e[name] for name in EQUITY_COLUMNS})
            parts.append(pa.table(cols))
    return _concat(parts, pa.schema([("strategy", pa.string())]))


def funding_table(session: ReplaySession, handles: Sequence[StrategyHandle]) -> pa.Table:
    parts = []
    for h in handles:
        c = session.funding(h)
        names = [inst.name for inst in session.instruments]
        parts.append(
            pa.table(
                {
                    "strategy": pa.array([h.name] * len(c), pa.string()),
                    "instrument": pa.array([names[int(i)] for i in c["instrument"]], pa.string()),
                    "ts": c["ts"],
                    "time": _iso(c["ts"]),
                    "position": c["position"],
                    "mark": c["mark"],
                    "rate": c["rate"],
                    "amount": c["amount"],
                }
            )
        )
    return _concat(parts, pa.schema([("strategy", pa.string())]))


def signals_table(session: ReplaySession, handles: Sequence[StrategyHandle]) -> pa.Table:
    parts = []
    for h in handles:
        s = session.signals(h)
        parts.append(
            pa.table(
                {
                    "strategy": pa.array([h.name] * len(s), pa.string()),
                    "ts": s["ts"],
                    "time": _iso(s["ts"]),
                    "kind": pa.array(s["kind"], pa.string()),
                    "strength": s["strength"],
                    "price": s["price"],
                    "meta": pa.array([json.dumps(m, default=str) for m in s["meta"]], pa.string()),
                }
            )
        )
    return _concat(parts, pa.schema([("strategy", pa.string())]))


def plots_table(session: ReplaySession, handles: Sequence[StrategyHandle]) -> pa.Table:
    parts = []
    for h in handles:
        for series, chunk in session.plots(h).items():
            n = len(chunk)
            parts.append(
                pa.table(
                    {
                        "strategy": pa.array([h.name] * n, pa.string()),
                        "series": pa.array([series] * n, pa.string()),
                        "ts": chunk["ts"],
                        "value": chunk["value"],
                    }
                )
            )
    return _concat(parts, PLOTS_SCHEMA)


ORDER_COLUMNS = (
    "strategy", "instrument", "order_id", "side", "type", "tif", "price", "amount", "decided_ts",
    "arrival_ts", "entry_latency_us", "queue_model", "level_at_arrival", "ahead_at_arrival",
    "ahead_at_end", "time_in_queue_us", "trades_at_price", "traded_at_price", "fills", "filled",
    "end_ts", "outcome", "reason",
)  # fmt: skip


def order_rows(session: ReplaySession, handles: Sequence[StrategyHandle]) -> list[dict[str, Any]]:
    names = [inst.name for inst in session.instruments]
    out = []
    for h in handles:
        for i, facts in session.order_facts(h):
            out.append({"strategy": h.name, "instrument": names[i], **facts.life()})
    return out


def write_orders(rows: list[dict[str, Any]], out: Path) -> None:
    table = pa.table({c: [r.get(c) for r in rows] for c in ORDER_COLUMNS}) if rows else None
    if table is None:
        (out / "orders.csv").write_text(",".join(ORDER_COLUMNS) + "\n", "utf-8")
    else:
        pacsv.write_csv(table, out / "orders.csv")
    with (out / "orders.jsonl").open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, allow_nan=False) + "\n")


def write_results(
    session: ReplaySession, handles: Sequence[StrategyHandle], out_dir: Path, run_info: dict[str, Any]
) -> dict[str, Any]:
    """Write the tables (and orders.jsonl) to ``out_dir`` (created) and return the summary written as JSON."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, table in (
        ("fills.csv", fills_table(session, handles)),
        ("equity.csv", equity_table(session, handles)),
        ("signals.csv", signals_table(session, handles)),
        ("plots.csv", plots_table(session, handles)),
        ("funding.csv", funding_table(session, handles)),
    ):
        pacsv.write_csv(table, out / name)
    write_orders(order_rows(session, handles), out)
    summary = {"run": run_info, "strategies": [session.summary(h) for h in handles]}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
    return summary
