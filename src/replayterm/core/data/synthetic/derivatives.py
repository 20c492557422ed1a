"""Synthetic perpetual-futures extras for a generated market: ``derivative_ticker`` and
``liquidations`` files in the Tardis layout, derived from the generated trades.

- derivative_ticker: a row a second. ``mark_price`` is the last trade price, ``index_price`` the
  mark minus a slowly mean-reverting basis, ``last_price`` the last trade, ``open_interest`` a
  random walk, and a funding rate that drifts around +1 bp. Funding falls due every
  ``funding_interval_s`` (5 minutes by default, so that a ten-minute sample passes funding
  times; real venues use 1–8 hours), and ``funding_rate`` is the rate announced for the next
  funding time, ``predicted_funding_rate`` the one after.
- liquidations: forced orders at moments of large trades, on the side of the trade (a buy
  liquidates a short), sized several times the typical trade.

The same inputs and seed always give the same bytes.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv

SECOND = 1_000_000


@dataclass(frozen=True)
class DerivativeFiles:
    derivative_ticker: Path
    liquidations: Path
    ticker_rows: int
    liquidation_rows: int


def write_derivatives(
    trades_path: Path,
    out_dir: Path,
    *,
    exchange: str,
    symbol: str,
    day: str,
    seed: int = 7,
    funding_interval_s: int = 300,
) -> DerivativeFiles:
    table = pacsv.read_csv(trades_path)
    local = table.column("local_timestamp").to_numpy().astype(np.int64)
    exch = table.column("timestamp").to_numpy().astype(np.int64)
    price = table.column("price").to_numpy().astype(np.float64)
    amount = table.column("amount").to_numpy().astype(np.float64)
    side = np.array([1 if s == "buy" else -1 for s in table.column("side").to_pylist()], dtype=np.int8)
    if local.shape[0] == 0:
        raise ValueError(f"{trades_path}: no trades to derive a ticker from")
    rng = np.random.default_rng(seed + 1009)
    out_dir.mkdir(parents=True, exist_ok=True)

    # Ticker: one row a second of receive time; exchange time keeps the trades' skew.
    t0 = int(local[0]) // SECOND * SECOND + SECOND
    times = np.arange(t0, int(local[-1]) + 1, SECOND, dtype=np.int64)
    k = np.searchsorted(local, times, side="right") - 1
    k = np.maximum(k, 0)
    skew = int(np.median(exch - local)) if exch.shape[0] else 0
    n = times.shape[0]
    basis = np.empty(n)
    b = 2.0
    for i in range(n):  # a mean-reverting basis around +2 price units
        b += 0.05 * (2.0 - b) + rng.normal(0.0, 0.4)
        basis[i] = b
    mark = np.round(price[k], 2)
    index = np.round(mark - basis, 2)
    oi = np.round(10_000 + np.cumsum(rng.normal(0.0, 15.0, n)), 3)
    rate = 1e-4 + np.cumsum(rng.normal(0.0, 2e-6, n))
    interval = funding_interval_s * SECOND
    exch_t = times + skew
    next_funding = (exch_t // interval + 1) * interval
    ticker_path = out_dir / f"{exchange}_derivative_ticker_{day}_{symbol}.csv.gz"
    with gzip.open(ticker_path, "wt", compresslevel=6, newline="") as fh:
        fh.write(
            "exchange,symbol,timestamp,local_timestamp,funding_timestamp,funding_rate,"
            "predicted_funding_rate,open_interest,last_price,index_price,mark_price\n"
        )
        for i in range(n):
            fh.write(
                f"{exchange},{symbol},{exch_t[i]},{times[i]},{next_funding[i]},{rate[i]:.8f},"
                f"{rate[i] * 0.9 + 1e-5:.8f},{oi[i]:.3f},{price[k[i]]:.2f},{index[i]:.2f},{mark[i]:.2f}\n"
            )

    # Liquidations: at the largest trades (top 0.3 %), on their side.
    cut = np.quantile(amount, 0.997)
    picks = np.flatnonzero(amount >= cut)
    liq_path = out_dir / f"{exchange}_liquidations_{day}_{symbol}.csv.gz"
    typical = float(np.median(amount))
    with gzip.open(liq_path, "wt", compresslevel=6, newline="") as fh:
        fh.write("exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n")
        for j, i in enumerate(picks.tolist()):
            size = round(typical * float(rng.uniform(5.0, 40.0)), 3)
            name = "buy" if side[i] > 0 else "sell"
            fh.write(
                f"{exchange},{symbol},{exch[i] + 1},{local[i] + 1},liq{j},{name},{price[i]:.2f},{size}\n"
            )
    return DerivativeFiles(ticker_path, liq_path, n, int(picks.shape[0]))
