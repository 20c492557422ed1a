"""PnL, equity and risk/return statistics as pure functions on numpy arrays."""

from replayterm.core.metrics.fills import FillTable
from replayterm.core.metrics.markouts import asof, horizon_label, markouts, markouts_bps
from replayterm.core.metrics.pnl import PnL, PositionPath, apply_fill, equity_curve, pnl, position_path
from replayterm.core.metrics.risk import (
    max_drawdown,
    period_returns,
    periods_per_year,
    resample,
    sharpe,
    sortino,
)
from replayterm.core.metrics.summary import summarize
from replayterm.core.metrics.trips import (
    RoundTrips,
    average_holding_us,
    profit_factor,
    round_trips,
    win_rate,
)

__all__ = [
    "FillTable",
    "PnL",
    "PositionPath",
    "RoundTrips",
    "apply_fill",
    "asof",
    "average_holding_us",
    "equity_curve",
    "horizon_label",
    "markouts",
    "markouts_bps",
    "max_drawdown",
    "period_returns",
    "periods_per_year",
    "pnl",
    "position_path",
    "profit_factor",
    "resample",
    "round_trips",
    "sharpe",
    "sortino",
    "summarize",
    "win_rate",
]
