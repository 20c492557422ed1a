"""Small hand-made book and trade sources for the replay tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from replayterm.core.data.model import Kind, Source


def book_source(rng: np.random.Generator, n_groups: int, symbol: str, resnapshot_at: int = -1) -> Source:
    ts, side, price, amount, snap = [], [], [], [], []
    t = 1_000_000
    for g in range(n_groups):
        t += int(rng.integers(1, 5)) * 1000
        snapshot = g == 0 or g == resnapshot_at
        rows = 20 if snapshot else int(rng.integers(1, 6))
        for r in range(rows):
            is_bid = r % 2 == 0
            level = int(rng.integers(0, 10))
            ts.append(t)
            side.append(1 if is_bid else -1)
            price.append(100.0 - 0.5 - level * 0.5 if is_bid else 100.0 + 0.5 + level * 0.5)
            amount.append(0.0 if (not snapshot and rng.random() < 0.3) else float(rng.integers(1, 9)))
            snap.append(snapshot)
    n = len(ts)
    table = pa.table(
        {
            "local_ts": pa.array(ts, pa.int64()),
            "exch_ts": pa.array(ts, pa.int64()),
            "side": pa.array(side, pa.int8()),
            "price": pa.array(price, pa.float64()),
            "amount": pa.array(amount, pa.float64()),
            "is_snapshot": pa.array(snap, pa.bool_()),
        }
    )
    assert table.num_rows == n
    return Source(Path(f"{symbol}_book.csv"), Kind.BOOK, "test", symbol, table)


def trade_source(rng: np.random.Generator, n: int, start: int, stop: int, symbol: str) -> Source:
    ts = np.sort(rng.integers(start, stop, size=n))
    table = pa.table(
        {
            "local_ts": pa.array(ts, pa.int64()),
            "exch_ts": pa.array(ts, pa.int64()),
            "side": pa.array(rng.choice([-1, 1], size=n).astype(np.int8)),
            "price": pa.array(np.full(n, 100.0)),
            "amount": pa.array(rng.random(n)),
            "id": pa.array([str(i) for i in range(n)]),
        }
    )
    return Source(Path(f"{symbol}_trades.csv"), Kind.TRADES, "test", symbol, table)
