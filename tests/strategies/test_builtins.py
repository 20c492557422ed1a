"""The built-in strategies and the example file: they load by name or path, check their
parameters, and do on data what their docstrings say."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from replayterm.core.data import Source, open_sources
from replayterm.core.data.synthetic import generate_files
from replayterm.core.session import ReplaySession
from replayterm.core.strategy import StrategyStatus, available_strategies, load_strategy_class
from replayterm.strategies import BUILTINS

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "my_strategy.py"


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Source]:
    """Three minutes of the synthetic market: the committed sample's first minutes, or generated."""
    found = sorted((REPO / "data").glob("*incremental_book_L2*.csv.gz"))
    found += sorted((REPO / "data").glob("*trades*.csv.gz"))
    if len(found) != 2:
        g = generate_files(tmp_path_factory.mktemp("sample"), minutes=3, seed=7)
        found = [g.book, g.trades]
    return open_sources(found, to_ts="2024-01-02T00:03:00Z", use_cache=False)


def run(sources: list[Source], spec: str, params: dict | None = None):  # type: ignore[no-untyped-def]
    session = ReplaySession(sources)
    handle = session.add_strategy(spec, params)
    session.run_to_end()
    info = session.info(handle)
    assert info.status is StrategyStatus.ENABLED, info.error
    assert info.finished
    return session, handle


def test_builtins_are_found_by_name() -> None:
    assert set(BUILTINS) <= set(available_strategies())
    for name in BUILTINS:
        cls = load_strategy_class(name)
        assert cls.name == name
        assert cls().params == cls.Params()


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("mean_reversion", {"lookback": 1}),
        ("mean_reversion", {"entry_z": 1.0, "exit_z": 2.0}),
        ("imbalance_momentum", {"threshold": 1.5}),
        ("market_maker", {"max_position": 0.001, "size": 0.01}),
    ],
)
def test_impossible_parameters_stop_the_strategy_at_start(
    sources: list[Source], name: str, params: dict
) -> None:
    session = ReplaySession(sources)
    handle = session.add_strategy(name, params)
    info = session.info(handle)
    assert info.status is StrategyStatus.FAILED
    assert info.error is not None
    assert info.error.kind == "start"
    assert "ValueError" in info.error.message


def test_mean_reversion_enters_beyond_entry_z_and_exits_inside_exit_z(sources: list[Source]) -> None:
    params = {"lookback": 30, "entry_z": 1.5, "exit_z": 0.3, "sample_ms": 500}
    session, handle = run(sources, "mean_reversion", params)
    signals = session.signals(handle)
    kinds, z = signals["kind"], signals["strength"]
    assert {"enter_long", "enter_short", "exit"} <= set(kinds)
    side = 0
    for kind, value in zip(kinds, z, strict=True):
        if kind == "enter_long":
            assert value < -1.5
            side = 1
        elif kind == "enter_short":
            assert value > 1.5
            side = -1
        else:  # back inside the exit band, or already past it on the other side
            assert (value > -0.3) if side > 0 else (value < 0.3)
    # Each signal carries the mid at its time, where a chart draws the marker.
    assert signals["price"].tolist() == [m["mid"] for m in signals["meta"]]
    assert set(session.plots(handle)) == {"z", "mean"}
    fills = session.fills(handle)
    assert len(fills) >= 2
    assert not fills["maker"].any()  # market orders only


def test_imbalance_momentum_follows_the_book_and_holds_for_hold_ms(sources: list[Source]) -> None:
    session, handle = run(sources, "imbalance_momentum", {"threshold": 0.4, "hold_ms": 3000})
    signals = session.signals(handle)
    for kind, value in zip(signals["kind"], signals["strength"], strict=True):
        if kind == "long":
            assert value > 0.4
        elif kind == "short":
            assert value < -0.4
    fills = session.fills(handle)
    signed = np.cumsum(fills["side"] * fills["amount"])
    opened = [
        fills["ts"][k]
        for k in range(len(fills))
        if abs(signed[k]) > 1e-12 and (k == 0 or abs(signed[k - 1]) <= 1e-12)
    ]
    closed = [fills["ts"][k] for k in range(len(fills)) if abs(signed[k]) <= 1e-12]
    assert len(closed) >= 3
    for start, end in zip(opened, closed, strict=False):
        assert end - start >= 3_000_000
    assert "imbalance" in session.plots(handle)


def test_market_maker_quotes_both_sides_within_its_position_limit(sources: list[Source]) -> None:
    params = {"size": 0.01, "max_position": 0.03, "requote_ms": 100, "skew": 2.0}
    session, handle = run(sources, "market_maker", params)
    fills = session.fills(handle)
    assert len(fills) > 20
    assert fills["maker"].all()  # post-only quotes: it never takes liquidity
    assert set(fills["side"].tolist()) == {-1, 1}
    position = session.equity(handle)["position"]
    assert np.abs(position).max() <= 0.03 + 1e-9
    plots = session.plots(handle)
    inventory, reservation = plots["inventory"]["value"], plots["reservation"]["value"]
    assert np.abs(inventory).max() <= 1.0 + 1e-9
    assert len(reservation) == len(inventory) > 100
    assert session.resting_orders(handle) or session.info(handle).open_orders == 0


def test_the_example_strategy_loads_and_trades(sources: list[Source]) -> None:
    cls = load_strategy_class(EXAMPLE)
    assert cls.__name__ == "TradeFlow"
    session, handle = run(sources, str(EXAMPLE), {"flow_threshold": "1.0"})
    info = session.info(handle)
    assert info.fills > 10
    kinds = set(session.signals(handle)["kind"])
    assert kinds & {"buy_flow", "sell_flow"}
    assert kinds & {"take_profit", "stop_loss", "timeout"}
    assert any("in at" in line for line in session.logs(handle)["text"])
    assert "flow" in session.plots(handle)
