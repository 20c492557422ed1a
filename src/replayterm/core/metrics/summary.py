"""Every metric of a run in one JSON-able dict."""

from __future__ import annotations

import math

import numpy as np

from replayterm.core.metrics.fills import FillTable
from replayterm.core.metrics.markouts import DEFAULT_HORIZONS_US, horizon_label, markouts, markouts_bps
from replayterm.core.metrics.pnl import equity_curve, pnl
from replayterm.core.metrics.risk import (
    DEFAULT_INTERVAL_US,
    MIN_INTERVALS,
    max_drawdown,
    period_returns,
    ratio_note,
    sharpe,
    sortino,
)
from replayterm.core.metrics.trips import average_holding_us, profit_factor, round_trips, win_rate


def _num(x: float) -> float | None:
    """JSON has no NaN or infinity: such values become None."""
    return float(x) if math.isfinite(x) else None


def _mean(a: np.ndarray) -> float:
    finite = a[np.isfinite(a)]
    return float(np.mean(finite)) if finite.shape[0] else math.nan


def summarize(
    fills: FillTable,
    mid_ts: np.ndarray,
    mid: np.ndarray,
    *,
    initial_equity: float = 0.0,
    interval_us: int = DEFAULT_INTERVAL_US,
    annualization: float | None = None,
    horizons_us: tuple[int, ...] = DEFAULT_HORIZONS_US,
    markout_reference: str = "mid",
    min_intervals: int = MIN_INTERVALS,
) -> dict[str, float | int | str | None]:
    """All metrics of one account. ``mid_ts``/``mid`` are the mark samples (mid prices in time
    order); the equity curve is evaluated at them, the open position is marked at the last one.

    Keys (money in quote currency, times in seconds, markouts as means over fills that have one):
    fills, maker_fills, taker_fills, volume, turnover, fees, realized_pnl (before fees),
    unrealized_pnl, net_pnl (= realized + unrealized − fees), position, avg_price,
    equity_start, equity_end, max_drawdown, max_drawdown_pct, sharpe, sortino, round_trips,
    win_rate, profit_factor, gross_profit, gross_loss, avg_trip_pnl, avg_holding_s, and for each
    horizon h: markout_<h> (price units) and markout_<h>_bps.

    max_drawdown_pct is given only with a positive ``initial_equity``. Values that are undefined
    or infinite are None (e.g. a profit factor without losses: then
    gross_loss is 0 and gross_profit tells the story). ``interval_us`` and ``annualization`` are
    those of ``risk.sharpe``; with fewer than ``min_intervals`` returns both are None and
    ``ratio_note`` says why (``intervals`` is the number of returns).
    """
    mt = np.asarray(mid_ts, dtype=np.int64)
    mv = np.asarray(mid, dtype=np.float64)
    last_mark = float(mv[-1]) if mv.shape[0] else math.nan
    totals = pnl(fills, last_mark)
    equity = equity_curve(fills, mt, mv, initial_equity)
    dd_abs, dd_pct = max_drawdown(equity)
    trips = round_trips(fills)
    trip_pnl = trips.pnl
    note = ratio_note(mt, equity, interval_us, min_intervals) if mt.shape[0] else "no mark prices"
    intervals = int(period_returns(mt, equity, interval_us).shape[0]) if mt.shape[0] else 0
    out: dict[str, float | int | str | None] = {
        "fills": len(fills),
        "maker_fills": int(np.count_nonzero(fills.maker)),
        "taker_fills": int(len(fills) - np.count_nonzero(fills.maker)),
        "volume": float(np.sum(fills.amount)),
        "turnover": float(np.sum(fills.notional)),
        "fees": totals.fees,
        "realized_pnl": totals.realized,
        "unrealized_pnl": _num(totals.unrealized),
        "net_pnl": _num(totals.net),
        "position": totals.position,
        "avg_price": totals.avg_price,
        "equity_start": _num(float(equity[0])) if equity.shape[0] else None,
        "equity_end": _num(float(equity[-1])) if equity.shape[0] else None,
        "max_drawdown": _num(dd_abs),
        # Percentages of a PnL curve starting at 0 measure falls from tiny early peaks: noise.
        "max_drawdown_pct": _num(dd_pct) if initial_equity > 0 else None,
        "sharpe": None if note else _num(sharpe(mt, equity, interval_us, annualization)),
        "sortino": None if note else _num(sortino(mt, equity, interval_us, annualization)),
        "ratio_note": note,
        "intervals": intervals,
        "round_trips": len(trips),
        "win_rate": _num(win_rate(trip_pnl)),
        "profit_factor": _num(profit_factor(trip_pnl)),
        "gross_profit": float(np.sum(trip_pnl[trip_pnl > 0])),
        "gross_loss": float(-np.sum(trip_pnl[trip_pnl < 0])),
        "avg_trip_pnl": _num(float(np.mean(trip_pnl)) if len(trips) else math.nan),
        "avg_holding_s": _num(average_holding_us(trips) / 1e6),
    }
    raw = markouts(fills, mt, mv, horizons_us, markout_reference)
    bps = markouts_bps(fills, mt, mv, horizons_us, markout_reference)
    for k, h in enumerate(horizons_us):
        label = horizon_label(h)
        out[f"markout_{label}"] = _num(_mean(raw[:, k]))
        out[f"markout_{label}_bps"] = _num(_mean(bps[:, k]))
    return out
