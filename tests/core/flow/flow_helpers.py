from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from replayterm.core.data import open_sources
from replayterm.core.flow import OrderFlow
from replayterm.core.replay.instruments import build_instruments


def trades_files(shared: Path) -> list[Path]:
    folder = shared / "binance-futures"
    return sorted(folder.glob("binance-futures_trades_*_BTCUSDT.csv.gz"))


def open_flow(paths: list[Path]) -> tuple[OrderFlow, object]:
    instruments = build_instruments(open_sources([str(p) for p in paths]))
    inst = instruments[0]
    return OrderFlow.open(inst.trades, inst.trade_sources), instruments


def write_generated(path: Path, n: int = 30_000, seed: int = 7) -> Path:
    """Trades over two UTC days with quiet gaps: a random walk on a 0.25 tick, sizes with two
    decimals, a few trades of unknown side, bursts with many trades in one microsecond."""
    rng = np.random.default_rng(seed)
    start = 1_721_433_000_000_000  # 2024-07-19T23:50Z, so the data crosses midnight
    gaps = rng.exponential(40_000, n).astype(np.int64)
    gaps[rng.random(n) < 0.2] = 0  # same-microsecond bursts
    gaps[rng.random(n) < 0.001] = 90_000_000  # quiet minutes
    ts = start + np.cumsum(gaps)
    ticks = 400_000 + np.cumsum(rng.integers(-2, 3, n))
    price = ticks * 0.25
    amount = np.round(rng.pareto(1.5, n) * 0.3 + 0.01, 2)
    side = rng.choice(np.array(["buy", "sell", "unknown"]), n, p=[0.48, 0.48, 0.04])
    with gzip.open(path, "wt") as f:
        f.write("exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n")
        for i in range(n):
            f.write(f"bitmex,XBTUSD,{ts[i] - 1500},{ts[i]},{i},{side[i]},{price[i]:.2f},{amount[i]:.2f}\n")
    return path
