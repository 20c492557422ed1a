"""derivative_ticker and liquidations: callbacks, funding settlement, instruments on callbacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from replayterm.core.execution.latency import ConstantLatency
from replayterm.core.replay.cursor import EventKind
from replayterm.core.session.session import ReplaySession
from replayterm.core.session.settings import SessionSettings
from replayterm.core.strategy.base import Strategy
from tardis_files import FUNDING_AT, T0, S, derivative_ticker, l2, liquidations, trades

SETTINGS = SessionSettings(latency=ConstantLatency(1, 1))


class _Watcher(Strategy):
    name = "watcher"

    def __init__(self, params: Any = None) -> None:
        super().__init__(params)
        self.tickers: list[tuple[int, float, float, str]] = []
        self.liqs: list[tuple[int, int, float, float, str]] = []

    def on_ticker(self, ctx, ticker):  # type: ignore[no-untyped-def]
        self.tickers.append((ticker.local_ts, ticker.funding_rate, ticker.basis, ticker.instrument.name))

    def on_liquidation(self, ctx, liq):  # type: ignore[no-untyped-def]
        self.liqs.append((liq.local_ts, liq.side, liq.price, liq.amount, liq.instrument.name))


def _files(folder: Path) -> list[Path]:
    return [l2(folder), trades(folder), derivative_ticker(folder), liquidations(folder)]


def test_callbacks_see_every_row_with_its_instrument(tmp_path: Path) -> None:
    session = ReplaySession.open(_files(tmp_path), SETTINGS)
    h = session.add_strategy(_Watcher)
    session.run_to_end()
    strategy = session._slot(h).instance
    assert isinstance(strategy, _Watcher)
    assert [t[0] for t in strategy.tickers] == [T0 + S, T0 + 3 * S, T0 + 4 * S + 10, T0 + 6 * S]
    assert strategy.tickers[0][1] == pytest.approx(0.0001)
    assert strategy.tickers[0][2] == pytest.approx(0.25)  # mark - index
    assert {t[3] for t in strategy.tickers} == {"binance-futures:BTCUSDT"}
    assert strategy.liqs == [
        (T0 + 2 * S, -1, 100.0, 0.5, "binance-futures:BTCUSDT"),
        (T0 + 5 * S, 1, 101.5, 5.0, "binance-futures:BTCUSDT"),
    ]
    assert session.summary(h)["warnings"] == []


def test_cursor_counts_each_type_and_seeks_back(tmp_path: Path) -> None:
    session = ReplaySession.open(_files(tmp_path), SETTINGS)
    cursor = session.cursor
    cursor.seek(T0 + 5 * S)
    assert cursor.applied(EventKind.TICKER, 0) == 3
    assert cursor.applied(EventKind.LIQUIDATION, 0) == 2
    assert cursor.applied(EventKind.FUNDING, 0) == 1
    cursor.seek(T0 + 2 * S)
    assert cursor.applied(EventKind.TICKER, 0) == 1
    assert cursor.applied(EventKind.FUNDING, 0) == 0
    steps = []
    cursor.seek_position(0)
    while (ev := cursor.step()) is not None:
        steps.append(ev.kind)
    assert steps.count(EventKind.FUNDING) == 1


class _LongOne(Strategy):
    name = "long_one"

    def on_book(self, ctx, book):  # type: ignore[no-untyped-def]
        if ctx.now == T0 + S:
            ctx.buy(2.0)


class _ShortOne(Strategy):
    name = "short_one"

    def on_book(self, ctx, book):  # type: ignore[no-untyped-def]
        if ctx.now == T0 + S:
            ctx.sell(2.0)


def test_funding_is_paid_by_longs_and_received_by_shorts(tmp_path: Path) -> None:
    session = ReplaySession.open(_files(tmp_path), SETTINGS)
    long_h = session.add_strategy(_LongOne)
    short_h = session.add_strategy(_ShortOne)
    session.run_to_end()
    # Settled at FUNDING_AT with the last rate announced for it (0.0003) and the last mark
    # before it (100.75): 2 * 100.75 * 0.0003.
    due = 2.0 * 100.75 * 0.0003
    long_sum, short_sum = session.summary(long_h), session.summary(short_h)
    assert long_sum["metrics"]["funding"] == pytest.approx(-due)
    assert short_sum["metrics"]["funding"] == pytest.approx(due)
    led = session.funding(long_h)
    assert led["amount"].tolist() == pytest.approx([-due])
    assert led["rate"].tolist() == pytest.approx([0.0003])
    assert int(led["ts"][0]) == T0 + 4 * S + 10  # the first ticker row at or past the funding time
    eq = session.equity(long_h)
    assert eq["funding"][-1] == pytest.approx(-due)
    # Net PnL includes it: the last equity row's net equals the pieces.
    assert eq["net"][-1] == pytest.approx(eq["realized"][-1] + eq["unrealized"][-1] - eq["fees"][-1] - due)
    assert FUNDING_AT == T0 + 4 * S


def test_no_silent_nothing_on_trades_only(tmp_path: Path) -> None:
    session = ReplaySession.open([trades(tmp_path)], SETTINGS)
    h = session.add_strategy("mean_reversion")
    session.run_to_end()
    warnings = session.summary(h)["warnings"]
    assert any("cannot fill" in w for w in warnings)
    assert any("no order book" in w for w in warnings)
    assert len(session.fills(h)) == 0


class _Raises(Strategy):
    name = "raises"

    def on_liquidation(self, ctx, liq):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom in on_liquidation")


def test_a_raising_on_liquidation_disables_only_that_strategy(tmp_path: Path) -> None:
    session = ReplaySession.open(_files(tmp_path), SETTINGS)
    bad = session.add_strategy(_Raises)
    good = session.add_strategy(_Watcher)
    session.run_to_end()
    assert session.summary(bad)["status"] == "failed"
    error = session.error(bad)
    assert error is not None
    assert error.callback == "on_liquidation"
    assert "boom" in error.message
    watcher = session._slot(good).instance
    assert isinstance(watcher, _Watcher)
    assert len(watcher.liqs) == 2
    assert len(watcher.tickers) == 4
