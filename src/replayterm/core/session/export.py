"""Writing a session's strategy results to a folder: CSV tables and a JSON summary.

``fills.csv``   strategy, instrument, order_id, ts (µs, when the strategy heard of it), sim_ts (µs,
                when the simulated exchange matched it, on the replay's receive-time axis),
                exch_ts (µs, the exchange's own time of the data row it was matched on), time
                (ISO of exch_ts), side (buy/sell), price, amount, fee, liquidity, leaves
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

Numbers are written without float noise (0.12790200000000002, -0.019999999999999997,
63918.350000000006 were written as such): sizes at the instruments' size precision, money to 12
significant digits of the largest fill's notional, prices and the rest to 12 significant digits
(see ``_Precision``): every digit the data and the simulator mean, without the binary residue.
"""

from __future__ import annotations

import json
import math
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


SIGNIFICANT = 12


def without_float_noise(values: np.ndarray, digits: int = SIGNIFICANT) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits (each to the nearest double of that
    decimal); NaN, inf and 0 stay as they are."""
    x = np.asarray(values, dtype=np.float64)
    out = x.copy()
    ok = np.isfinite(x) & (x != 0)
    if not ok.any():
        return out
    places = (digits - 1 - np.floor(np.log10(np.abs(x[ok])))).astype(np.int64)
    places = np.clip(places, -15, 15)
    part = x[ok]
    for p in np.unique(places).tolist():
        sel = places == p
        part[sel] = np.round(part[sel], p)
    out[ok] = part
    return out


MONEY = {"fee", "realized", "unrealized", "fees", "net", "equity", "funding"}
SIZES = {"amount", "leaves", "position"}


def decimal_places(values: np.ndarray, places: int) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64)
    return np.round(x, max(-15, min(places, 15)))


def _places(scale: float) -> int | None:
    """Decimal places that keep 12 significant digits of numbers as large as ``scale``."""
    if not (math.isfinite(scale) and scale > 0):
        return None
    return SIGNIFICANT - 1 - math.floor(math.log10(scale))


class _Precision:
    """How each kind of number is written. Sizes (fill amounts, positions) and money (fees, PnL,
    equity) to fixed places: 12 significant digits of the largest fill's amount and notional, so
    a position or a small PnL left from a difference of large numbers (-0.019999999999999997,
    0.0014999999998, 1e-17 after a round trip) is written as what it is (-0.02, 0.0015, 0).
    Everything else (prices, rates, averages): 12 significant digits of the value itself."""

    def __init__(self, session: ReplaySession, handles: Sequence[StrategyHandle]) -> None:
        amount = notional = 0.0
        for h in handles:
            f = session.fills(h)
            if len(f):
                amount = max(amount, float(np.max(np.abs(f["amount"]))))
                notional = max(notional, float(np.max(np.abs(f["price"] * f["amount"]))))
        self.size_places = _places(amount)
        self.money_places = _places(notional)

    def clean(self, name: str, values: np.ndarray) -> np.ndarray:
        if name in SIZES and self.size_places is not None:
            return decimal_places(values, self.size_places)
        if name in MONEY and self.money_places is not None:
            return decimal_places(values, self.money_places)
        return without_float_noise(values)

    def table(self, table: pa.Table, money_amount: bool = False) -> pa.Table:
        for i, field in enumerate(table.schema):
            if pa.types.is_floating(field.type):
                column = table.column(i).to_numpy(zero_copy_only=False)
                kind = "fee" if money_amount and field.name == "amount" else field.name
                table = table.set_column(i, field, pa.array(self.clean(kind, column), field.type))
        return table


def data_exchange_times(session: ReplaySession, instrument: int, sim_ts: np.ndarray) -> np.ndarray:
    """For each replay time in ``sim_ts``, the exchange time (``exch_ts``) of the instrument's last
    data row received at or before it: the book or trade the simulator matched on."""
    inst = session.instruments[instrument]
    best_local = np.full(sim_ts.shape, np.iinfo(np.int64).min, np.int64)
    exch = np.asarray(sim_ts, np.int64).copy()  # no data row before it: the replay time itself
    streams = []
    if inst.book is not None:
        streams.append((inst.book.events.local_ts, inst.book.events.exch_ts))
    if inst.trades is not None:
        streams.append((inst.trades.local_ts, inst.trades.exch_ts))
    for local, exch_col in streams:
        if len(local) == 0:
            continue
        # Columns may be memory-mapped chunks that search one value at a time; fills are few.
        for k, t in enumerate(sim_ts.tolist()):
            row = int(local.searchsorted(t, side="right")) - 1
            if row >= 0 and int(local[row]) >= best_local[k]:
                best_local[k] = int(local[row])
                exch[k] = int(exch_col[row])
    return exch


def fills_table(session: ReplaySession, handles: Sequence[StrategyHandle]) -> pa.Table:
    parts = []
    names = [inst.name for inst in session.instruments]
    for h in handles:
        f = session.fills(h)
        data_exch = np.asarray(f["exch_ts"], np.int64).copy()
        for i in np.unique(np.asarray(f["instrument"], np.int64)).tolist():
            mine = np.asarray(f["instrument"]) == i
            data_exch[mine] = data_exchange_times(session, int(i), data_exch[mine])
        parts.append(
            pa.table(
                {
                    "strategy": pa.array([h.name] * len(f), pa.string()),
                    "instrument": pa.array([names[int(i)] for i in f["instrument"]], pa.string()),
                    "order_id": f["order_id"],
                    "ts": f["ts"],
                    "sim_ts": f["exch_ts"],
                    "exch_ts": data_exch,
                    "time": _iso(data_exch),
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
    precision = _Precision(session, handles)
    for name, table in (
        ("fills.csv", fills_table(session, handles)),
        ("equity.csv", equity_table(session, handles)),
        ("signals.csv", signals_table(session, handles)),
        ("plots.csv", plots_table(session, handles)),
        ("funding.csv", funding_table(session, handles)),
    ):
        # funding.csv's "amount" is money received, not a size
        pacsv.write_csv(precision.table(table, money_amount=name == "funding.csv"), out / name)
    write_orders(order_rows(session, handles), out)
    summary = {"run": run_info, "strategies": [session.summary(h) for h in handles]}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
    return summary
