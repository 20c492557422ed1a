"""An independent computation of the order-flow figures: pyarrow group-bys over the trades file.

Nothing here uses ``replayterm.core.flow``: the file is read with ``pyarrow.csv``, prices and
sizes stay floats, and every rule (bucket alignment, value area, imbalance) is re-implemented
from its documented definition, so agreement means both say the same thing.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv


def read_trades(paths: list[Path]) -> pa.Table:
    tables = [
        pcsv.read_csv(
            p,
            convert_options=pcsv.ConvertOptions(column_types={"price": pa.float64(), "amount": pa.float64()}),
        )
        for p in paths
    ]
    t = pa.concat_tables([x.select(["local_timestamp", "side", "price", "amount"]) for x in tables])
    t = t.take(pc.sort_indices(t, [("local_timestamp", "ascending")]))  # stable: files in order
    sign = pc.if_else(pc.equal(t["side"], "buy"), 1, pc.if_else(pc.equal(t["side"], "sell"), -1, 0))
    return t.append_column("sign", sign).append_column("row", pa.array(np.arange(t.num_rows)))


def between(t: pa.Table, start: int, end: int) -> pa.Table:
    ts = t["local_timestamp"]
    return t.filter(pc.and_(pc.greater_equal(ts, start), pc.less_equal(ts, end)))


def _with(t: pa.Table, **cols: pa.Array | np.ndarray) -> pa.Table:
    for name, col in cols.items():
        t = t.append_column(name, pa.array(col))
    return t


def time_bars(t: pa.Table, width_us: int) -> dict[str, np.ndarray]:
    ts = t["local_timestamp"].to_numpy()
    price = t["price"].to_numpy()
    amount = t["amount"].to_numpy()
    sign = t["sign"].to_numpy()
    t = _with(
        t,
        bucket=ts // width_us,
        buy=np.where(sign > 0, amount, 0.0),
        sell=np.where(sign < 0, amount, 0.0),
        pv=price * amount,
    )
    g = t.group_by("bucket", use_threads=False).aggregate(
        [
            ("price", "first"),
            ("price", "max"),
            ("price", "min"),
            ("price", "last"),
            ("amount", "sum"),
            ("buy", "sum"),
            ("sell", "sum"),
            ("pv", "sum"),
            ("price", "count"),
        ]
    )
    g = g.sort_by("bucket")
    out = {name: g[name].to_numpy() for name in g.column_names}
    out["start_us"] = out["bucket"] * width_us
    out["vwap"] = out["pv_sum"] / out["amount_sum"]
    return out


def footprint(t: pa.Table, width_us: int, row: float) -> dict[str, np.ndarray]:
    ts = t["local_timestamp"].to_numpy()
    price = t["price"].to_numpy()
    amount = t["amount"].to_numpy()
    sign = t["sign"].to_numpy()
    t = _with(
        t,
        bucket=ts // width_us,
        prow=np.floor(price / row + 1e-9).astype(np.int64),
        buy=np.where(sign > 0, amount, 0.0),
        sell=np.where(sign < 0, amount, 0.0),
    )
    g = t.group_by(["bucket", "prow"], use_threads=False).aggregate(
        [("buy", "sum"), ("sell", "sum"), ("amount", "sum"), ("price", "count")]
    )
    g = g.sort_by([("bucket", "ascending"), ("prow", "ascending")])
    return {name: g[name].to_numpy() for name in g.column_names}


def profile(t: pa.Table, row: float, share: float) -> dict[str, object]:
    price = t["price"].to_numpy()
    amount = t["amount"].to_numpy()
    sign = t["sign"].to_numpy()
    t = _with(
        t,
        prow=np.floor(price / row + 1e-9).astype(np.int64),
        buy=np.where(sign > 0, amount, 0.0),
        sell=np.where(sign < 0, amount, 0.0),
    )
    g = t.group_by("prow", use_threads=False).aggregate([("buy", "sum"), ("sell", "sum"), ("amount", "sum")])
    g = g.sort_by("prow")
    rows = g["prow"].to_numpy()
    vol = g["amount_sum"].to_numpy()
    # the value-area rule, from its definition, on rounded volumes (so float noise breaks no tie)
    dense = {int(r): round(float(v), 9) for r, v in zip(rows, vol, strict=True)}
    lo, hi = int(rows.min()), int(rows.max())
    values = [dense.get(r, 0.0) for r in range(lo, hi + 1)]
    peak = max(values)
    mid = (len(values) - 1) / 2
    poc = min((i for i, v in enumerate(values) if v == peak), key=lambda i: (abs(i - mid), i))
    target = share * sum(values)
    up = down = poc
    acc = values[poc]
    while acc < target - 1e-9 and (down > 0 or up < len(values) - 1):
        above = values[up + 1] if up < len(values) - 1 else -1.0
        below = values[down - 1] if down > 0 else -1.0
        if above >= below:
            up += 1
            acc += above
        if below >= above:
            down -= 1
            acc += below
    return {
        "rows": rows,
        "buy": g["buy_sum"].to_numpy(),
        "sell": g["sell_sum"].to_numpy(),
        "volume": vol,
        "poc": (lo + poc) * row,
        "vah": (lo + up) * row,
        "val": (lo + down) * row,
    }


def cvd_and_vwap(t: pa.Table, width_us: int, day_us: int = 86_400_000_000) -> dict[str, np.ndarray]:
    """Per bar: CVD candle (reset each UTC day) and the session VWAP and sigma after it, by a
    plain loop over the trades."""
    ts = t["local_timestamp"].to_numpy()
    price = t["price"].to_numpy()
    amount = t["amount"].to_numpy()
    sign = t["sign"].to_numpy()
    out: dict[str, list[float]] = {
        k: [] for k in ("start_us", "open", "high", "low", "close", "vwap", "sigma")
    }
    run = 0.0
    day = None
    v = pv = p2v = 0.0
    i = 0
    n = len(ts)
    while i < n:
        bucket = ts[i] // width_us
        if ts[i] // day_us != day:
            day = ts[i] // day_us
            run = 0.0
            v = pv = p2v = 0.0
        o = hi = lo = run
        first = True
        while i < n and ts[i] // width_us == bucket:
            run += sign[i] * amount[i] if sign[i] else 0.0
            hi = max(hi, run) if not first else max(o, run)
            lo = min(lo, run) if not first else min(o, run)
            first = False
            v += amount[i]
            pv += price[i] * amount[i]
            p2v += price[i] * price[i] * amount[i]
            i += 1
        mean = pv / v
        out["start_us"].append(bucket * width_us)
        out["open"].append(o)
        out["high"].append(hi)
        out["low"].append(lo)
        out["close"].append(run)
        out["vwap"].append(mean)
        out["sigma"].append(math.sqrt(max(p2v / v - mean * mean, 0.0)))
    return {k: np.array(x) for k, x in out.items()}


def size_bars(t: pa.Table, kind: str, size: float) -> list[tuple[int, int]]:
    """(first row, last row) of each tick/volume/notional bar, counted from the first trade."""
    price = t["price"].to_numpy()
    amount = t["amount"].to_numpy()
    bars = []
    acc = None
    first = 0
    for i in range(len(amount)):
        if acc is None or acc >= size - 1e-9:
            if acc is not None:
                bars.append((first, i - 1))
            first, acc = i, 0.0
        acc += 1 if kind == "tick" else amount[i] if kind == "volume" else price[i] * amount[i]
    if acc is not None:
        bars.append((first, len(amount) - 1))
    return bars
