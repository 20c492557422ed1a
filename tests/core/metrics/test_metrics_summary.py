"""summarize(): every metric, JSON-safe, including the empty and one-trade cases."""

from __future__ import annotations

import json

import numpy as np
import pytest

from replayterm.core.metrics import FillTable, summarize

KEYS = {
    "fills",
    "maker_fills",
    "taker_fills",
    "volume",
    "turnover",
    "fees",
    "realized_pnl",
    "unrealized_pnl",
    "net_pnl",
    "position",
    "avg_price",
    "equity_start",
    "equity_end",
    "max_drawdown",
    "max_drawdown_pct",
    "sharpe",
    "sortino",
    "ratio_note",
    "intervals",
    "round_trips",
    "win_rate",
    "profit_factor",
    "gross_profit",
    "gross_loss",
    "avg_trip_pnl",
    "avg_holding_s",
    "markout_100ms",
    "markout_100ms_bps",
    "markout_1s",
    "markout_1s_bps",
    "markout_10s",
    "markout_10s_bps",
}


def test_empty_run() -> None:
    out = summarize(FillTable.empty(), np.array([], dtype=np.int64), np.array([]))
    assert set(out) == KEYS
    json.dumps(out, allow_nan=False)
    assert out["fills"] == 0
    assert out["net_pnl"] == 0.0
    assert out["equity_end"] is None
    assert out["sharpe"] is None
    assert out["profit_factor"] is None
    assert out["markout_1s"] is None


def test_one_winning_trip() -> None:
    s = 1_000_000
    fills = FillTable.from_columns([s, 3 * s], [1, -1], [100.0, 104.0], [2.0, 2.0], [0.2, 0.2], [True, False])
    mid_ts = np.arange(0, 30 * s, s // 10)
    mid = np.where(mid_ts < 2 * s, 100.0, 104.0)
    out = summarize(fills, mid_ts, mid, initial_equity=1_000.0, interval_us=s)
    json.dumps(out, allow_nan=False)
    assert (out["fills"], out["maker_fills"], out["taker_fills"]) == (2, 1, 1)
    assert out["volume"] == 4.0
    assert out["turnover"] == pytest.approx(408.0)
    assert out["realized_pnl"] == pytest.approx(8.0)
    assert out["net_pnl"] == pytest.approx(7.6)
    assert out["equity_end"] == pytest.approx(1_007.6)
    assert out["equity_start"] == 1_000.0
    assert out["round_trips"] == 1
    assert out["win_rate"] == 1.0
    assert out["profit_factor"] is None  # no loss: infinite, reported via gross figures
    assert (out["gross_profit"], out["gross_loss"]) == (pytest.approx(7.6), 0.0)
    assert out["avg_holding_s"] == pytest.approx(2.0)
    assert out["max_drawdown"] == pytest.approx(0.2)  # the entry fee
    assert out["max_drawdown_pct"] == pytest.approx(0.02)
    assert out["markout_1s"] == pytest.approx(2.0)  # the buy: +4 after 1 s; the sell: flat after
    assert out["markout_100ms"] == 0.0
    assert out["markout_1s_bps"] == pytest.approx((4 / 100 * 1e4 + 0.0) / 2)
    assert out["sharpe"] is not None
    assert out["sortino"] is not None


def test_all_losses_and_open_position() -> None:
    fills = FillTable.from_columns([1, 2, 3, 4, 5], [1, -1, -1, 1, 1], [10.0, 9.0, 9.0, 9.5, 9.0], [1.0] * 5)
    mid_ts = np.array([0, 5])
    out = summarize(fills, mid_ts, np.array([10.0, 8.0]))
    assert out["round_trips"] == 2
    assert out["profit_factor"] == 0.0
    assert out["win_rate"] == 0.0
    assert out["gross_loss"] == pytest.approx(1.5)
    assert out["position"] == 1.0
    assert out["unrealized_pnl"] == pytest.approx(-1.0)
    assert out["net_pnl"] == pytest.approx(-2.5)
    assert out["max_drawdown_pct"] is None  # a PnL curve from 0 has no percentage


def test_open_position_without_marks_has_no_unrealized() -> None:
    out = summarize(
        FillTable.from_columns([1], [1], [10.0], [1.0]), np.array([], dtype=np.int64), np.array([])
    )
    json.dumps(out, allow_nan=False)
    assert out["unrealized_pnl"] is None
    assert out["net_pnl"] is None
    assert out["realized_pnl"] == 0.0


def test_short_run_has_no_sharpe_and_says_why() -> None:
    s = 1_000_000
    fills = FillTable.from_columns([s, 3 * s], [1, -1], [100.0, 104.0], [2.0, 2.0])
    mid_ts = np.arange(0, 6 * 60 * s, s)  # six minutes: 6 one-minute returns
    mid = np.where(mid_ts < 2 * s, 100.0, 104.0)
    out = summarize(fills, mid_ts, mid)  # the default interval: 1 min
    assert (out["sharpe"], out["sortino"]) == (None, None)
    assert out["intervals"] == 6
    assert "need at least 30" in str(out["ratio_note"])
    finer = summarize(fills, mid_ts, mid, interval_us=s)
    assert finer["sharpe"] is not None
    assert finer["ratio_note"] is None


def test_sharpe_is_annualised_by_intervals_per_year() -> None:
    from replayterm.core.metrics.risk import periods_per_year, sharpe

    minute = 60_000_000
    ts = np.arange(0, 41 * minute, minute)
    rng = np.random.default_rng(3)
    equity = np.cumsum(rng.normal(1.0, 2.0, ts.shape[0]))
    r = np.diff(equity)
    expected = r.mean() / r.std(ddof=1) * np.sqrt(365 * 24 * 60)
    assert periods_per_year(minute) == 365 * 24 * 60
    assert sharpe(ts, equity, minute) == pytest.approx(expected)


def test_markout_reference_is_the_mid_just_before_the_fill() -> None:
    from replayterm.core.metrics import markouts

    s = 1_000_000
    # The book message at 2 s moves the mid from 100 to 98 and fills our bid at 99: the markout
    # counts that move against us (the old as-of reference took the mid after it: 0).
    fills = FillTable.from_columns([2 * s], [1], [99.0], [1.0])
    mid_ts = np.array([0, 2 * s, 10 * s])
    mid = np.array([100.0, 98.0, 98.0])
    [[m]] = markouts(fills, mid_ts, mid, (s,))
    assert m == -2.0
