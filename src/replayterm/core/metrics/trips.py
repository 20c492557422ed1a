"""Round trips (flat to flat) and the statistics built on them.

A round trip opens with the fill that leaves a flat position and closes with the fill that
makes it flat again. A fill that goes through zero closes the current trip and opens the next
with the remainder; its fee is split between the two in proportion to the amounts. A trip
still open after the last fill is not counted. Trip PnL is average-cost realized PnL (see
``pnl``) minus the trip's fees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from replayterm.core.metrics.fills import FillTable
from replayterm.core.metrics.pnl import apply_fill


@dataclass(frozen=True, slots=True)
class RoundTrips:
    """One entry per closed trip: ``direction`` +1 long / -1 short; ``gross`` realized PnL before
    fees; ``fees``; ``pnl = gross − fees``; times in µs."""

    entry_ts: np.ndarray
    exit_ts: np.ndarray
    direction: np.ndarray
    gross: np.ndarray
    fees: np.ndarray

    @property
    def pnl(self) -> np.ndarray:
        return self.gross - self.fees

    @property
    def holding_us(self) -> np.ndarray:
        return self.exit_ts - self.entry_ts

    def __len__(self) -> int:
        return int(self.entry_ts.shape[0])


def round_trips(fills: FillTable) -> RoundTrips:
    entry: list[int] = []
    exit_: list[int] = []
    direction: list[int] = []
    gross: list[float] = []
    fees: list[float] = []
    pos = avg = 0.0
    start, trip_dir, trip_gross, trip_fees = 0, 0, 0.0, 0.0
    cols = zip(
        fills.ts.tolist(),
        fills.side.tolist(),
        fills.price.tolist(),
        fills.amount.tolist(),
        fills.fee.tolist(),
        strict=True,
    )
    for ts, side, price, amount, fee in cols:
        if pos == 0.0:
            start, trip_dir, trip_gross, trip_fees = ts, side, 0.0, 0.0
        new_pos, new_avg, realized = apply_fill(pos, avg, side, price, amount)
        flipped = pos != 0.0 and new_pos != 0.0 and (new_pos > 0) != (pos > 0)
        closing_share = abs(pos) / amount if flipped else 1.0
        trip_gross += realized
        trip_fees += fee * closing_share
        if new_pos == 0.0 or flipped:
            entry.append(start)
            exit_.append(ts)
            direction.append(trip_dir)
            gross.append(trip_gross)
            fees.append(trip_fees)
        if flipped:
            start, trip_dir, trip_gross, trip_fees = ts, side, 0.0, fee * (1.0 - closing_share)
        pos, avg = new_pos, new_avg
    return RoundTrips(
        entry_ts=np.asarray(entry, dtype=np.int64),
        exit_ts=np.asarray(exit_, dtype=np.int64),
        direction=np.asarray(direction, dtype=np.int8),
        gross=np.asarray(gross, dtype=np.float64),
        fees=np.asarray(fees, dtype=np.float64),
    )


def win_rate(pnl: np.ndarray) -> float:
    """Share of trips with PnL > 0 (a zero-PnL trip is not a win). NaN without trips."""
    p = np.asarray(pnl, dtype=np.float64)
    return float(np.mean(p > 0)) if p.shape[0] else math.nan


def profit_factor(pnl: np.ndarray) -> float:
    """Sum of winning PnL / |sum of losing PnL|. 0 when every trip loses; +inf with wins and no
    loss; NaN without trips or when every trip is exactly 0."""
    p = np.asarray(pnl, dtype=np.float64)
    if p.shape[0] == 0:
        return math.nan
    won = float(np.sum(p[p > 0]))
    lost = -float(np.sum(p[p < 0]))
    if lost == 0.0:
        return math.inf if won > 0 else math.nan
    return won / lost


def average_holding_us(trips: RoundTrips) -> float:
    """Mean of exit − entry over closed trips, µs. NaN without trips."""
    return float(np.mean(trips.holding_us)) if len(trips) else math.nan
