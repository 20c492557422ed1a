"""Same data + strategies + settings => byte-identical fills, equity, signals and plots, however
the replay is cut: one batch, thousands of small batches, single steps, or seeks back and forth."""

from __future__ import annotations

import pickle
from collections.abc import Callable

import numpy as np
import pytest

from replayterm.core.data import Source, open_sources
from replayterm.core.data.synthetic import generate_files
from replayterm.core.execution import FeeSchedule
from replayterm.core.session import ReplaySession, SessionSettings

STRATEGIES = (
    ("mean_reversion", {"sample_ms": 200, "lookback": 30, "entry_z": 1.5}),
    ("imbalance_momentum", {"hold_ms": 2000}),
    ("market_maker", {"requote_ms": 100}),
)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Source]:
    g = generate_files(tmp_path_factory.mktemp("market"), minutes=1.0, seed=3)
    return open_sources([g.book, g.trades], use_cache=False)


@pytest.fixture(scope="module", params=["risk-averse", "prob"])
def settings(request: pytest.FixtureRequest) -> SessionSettings:
    return SessionSettings(
        fees=FeeSchedule.from_bps(-0.5, 4.0), slippage_bps=1.0, queue=request.param, sample_interval_us=50_000
    )


def snapshot(session: ReplaySession) -> bytes:
    out = []
    for handle in session.strategies:
        chunks = [
            session.fills(handle),
            session.equity(handle),
            session.signals(handle),
            session.logs(handle),
        ]
        cols = [
            {
                k: np.asarray(v).tobytes() if k not in ("kind", "meta", "text") else v
                for k, v in c.columns.items()
            }
            for c in chunks
        ]
        plots = {
            name: {k: v.tobytes() for k, v in c.columns.items()} for name, c in session.plots(handle).items()
        }
        out.append((handle.name, cols, plots, session.info(handle).pnl))
    return pickle.dumps(out)


def run(sources: list[Source], settings: SessionSettings, drive: Callable[[ReplaySession], None]) -> bytes:
    session = ReplaySession(sources, settings)
    for name, params in STRATEGIES:
        session.add_strategy(name, params)
    drive(session)
    assert session.at_end
    assert all(session.info(h).finished for h in session.strategies)
    assert sum(session.info(h).fills for h in session.strategies) > 50
    return snapshot(session)


def one_batch(session: ReplaySession) -> None:
    session.run_to_end()


def small_batches(session: ReplaySession) -> None:
    t = session.start_ts
    while not session.at_end:
        t += 9_973  # µs: about 6000 batches over a minute
        session.advance_to(t)
    session.run_to_end()


def steps(session: ReplaySession) -> None:
    k = 0
    while not session.at_end:
        k += 1
        (session.step_message, session.step_trade, session.step)[k % 3]()
    session.run_to_end()


def seeks(session: ReplaySession) -> None:
    start, end = session.start_ts, session.end_ts
    span = end - start
    session.advance_to(start + span * 3 // 4)
    session.seek(start + span // 3)
    session.seek(start + span // 2)
    session.seek(start + 1_000_000)
    session.step_message()
    session.seek(end - 2_000_000)
    session.seek(start + span // 5)
    session.run_to_end()
    session.seek(start + span // 2)
    session.run_to_end()


def late_join(session: ReplaySession) -> None:
    # A fourth strategy joins halfway and leaves again: the others must not notice.
    half = (session.start_ts + session.end_ts) // 2
    session.advance_to(half)
    extra = session.add_strategy("market_maker", {"requote_ms": 70, "spread_ticks": 3})
    session.advance_to(half + 9_000_000)
    session.remove_strategy(extra)
    session.run_to_end()


@pytest.mark.parametrize("drive", [small_batches, steps, seeks, late_join], ids=lambda f: f.__name__)
def test_fills_and_pnl_do_not_depend_on_how_the_replay_is_cut(
    sources: list[Source], settings: SessionSettings, drive: Callable[[ReplaySession], None]
) -> None:
    assert run(sources, settings, drive) == run(sources, settings, one_batch)
