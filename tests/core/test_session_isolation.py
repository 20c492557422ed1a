"""A strategy that raises, hangs or sleeps is stopped and disabled; the others and the replay go on
exactly as if it had never been there."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import ClassVar

import pytest

from replayterm.core.data import Source, open_sources
from replayterm.core.data.synthetic import generate_files
from replayterm.core.session import ReplaySession, SessionSettings
from replayterm.core.strategy import Strategy, StrategyContext, StrategyStatus


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Source]:
    g = generate_files(tmp_path_factory.mktemp("market"), minutes=1.0, seed=5)
    return open_sources([g.book, g.trades], use_cache=False)


class Boom(Strategy):
    """Raises on the 50th book message."""

    name = "boom"

    def __init__(self, params: object = None) -> None:
        super().__init__(params)
        self.seen = 0

    def on_book(self, ctx: StrategyContext, book: object) -> None:
        self.seen += 1
        if self.seen == 50:
            raise ZeroDivisionError("boom at message 50")


class Hang(Strategy):
    """Loops forever in its 20th book callback (and swallows ordinary exceptions)."""

    name = "hang"
    hung_at: ClassVar[int] = -1

    def __init__(self, params: object = None) -> None:
        super().__init__(params)
        self.seen = 0

    def on_book(self, ctx: StrategyContext, book: object) -> None:
        self.seen += 1
        if self.seen == 20:
            type(self).hung_at = ctx.now
        while self.seen >= 20:
            with contextlib.suppress(Exception):
                pass


class TimerHang(Strategy):
    name = "timer_hang"
    hung_at: ClassVar[int] = -1

    def on_start(self, ctx: StrategyContext) -> None:
        ctx.set_timer(2_000_000)

    def on_timer(self, ctx: StrategyContext) -> None:
        type(self).hung_at = ctx.now
        while True:
            pass


class Sleeper(Strategy):
    """Blocks in one long C call: the abort lands when it returns."""

    name = "sleeper"

    def __init__(self, params: object = None) -> None:
        super().__init__(params)
        self.seen = 0

    def on_book(self, ctx: StrategyContext, book: object) -> None:
        self.seen += 1
        if self.seen == 30:
            time.sleep(0.6)


def good_run(
    sources: list[Source], settings: SessionSettings, bad: type[Strategy] | None, bad_first: bool = True
) -> dict:
    session = ReplaySession(sources, settings)
    if bad is not None and bad_first:
        bad_handle = session.add_strategy(bad)
    handles = [
        session.add_strategy("market_maker", {"requote_ms": 100}),
        session.add_strategy("imbalance_momentum"),
    ]
    if bad is not None and not bad_first:
        bad_handle = session.add_strategy(bad)
    session.run_to_end()
    fills = [session.fills(h).columns for h in handles]
    result = {"fills": [{k: v.tobytes() for k, v in f.items()} for f in fills], "at_end": session.at_end}
    if bad is not None:
        result["bad"] = session.info(bad_handle)
    assert session.warnings == []
    session.close()
    return result


def test_a_raising_strategy_is_disabled_with_its_traceback_and_the_others_are_unaffected(
    sources: list[Source],
) -> None:
    settings = SessionSettings()
    clean = good_run(sources, settings, None)
    with_bad = good_run(sources, settings, Boom)
    info = with_bad["bad"]
    assert info.status is StrategyStatus.FAILED
    assert info.error is not None
    assert info.error.kind == "exception"
    assert info.error.callback == "on_book"
    assert "ZeroDivisionError: boom at message 50" in info.error.message
    assert "raise ZeroDivisionError" in info.error.traceback
    assert "runner.py" not in info.error.traceback.splitlines()[1]  # starts in the strategy
    assert with_bad["fills"] == clean["fills"]
    assert any(len(f["ts"]) for f in clean["fills"])


def test_an_endless_callback_is_stopped_by_the_time_budget(sources: list[Source]) -> None:
    settings = SessionSettings(callback_budget_s=0.3)
    clean = good_run(sources, SessionSettings(), None)
    for bad in (Hang, TimerHang):
        with_bad = good_run(sources, settings, bad)
        info = with_bad["bad"]
        assert info.status is StrategyStatus.FAILED
        assert info.error is not None
        assert info.error.kind == "timeout"
        assert "0.3 s time budget" in info.error.message
        assert info.error.callback in ("on_book", "on_timer")
        assert info.error.ts == bad.hung_at  # stopped in the callback that hung...
        assert with_bad["at_end"]  # ...and the replay went on to the end
        assert with_bad["fills"] == clean["fills"]


@pytest.mark.parametrize("bad_first", [True, False])
def test_a_blocking_call_is_stopped_when_it_returns(sources: list[Source], bad_first: bool) -> None:
    # First or last of the strategies at that event, the abort lands in the sleeping callback.
    clean = good_run(sources, SessionSettings(), None)
    with_bad = good_run(sources, SessionSettings(callback_budget_s=0.2), Sleeper, bad_first)
    info = with_bad["bad"]
    assert info.status is StrategyStatus.FAILED
    assert info.error is not None
    assert info.error.kind == "timeout"
    assert with_bad["fills"] == clean["fills"]


def test_the_user_can_abort_a_stuck_callback_from_another_thread(sources: list[Source]) -> None:
    session = ReplaySession(sources)
    bad = session.add_strategy(Hang)
    good = session.add_strategy("market_maker")
    assert not session.abort_current_callback()  # nothing is running
    worker = threading.Thread(target=session.run_to_end)
    worker.start()
    for _ in range(500):
        if session.abort_current_callback():
            break
        time.sleep(0.01)
    else:
        pytest.fail("the hanging callback was never seen")
    worker.join(timeout=5.0)
    assert not worker.is_alive()
    info = session.info(bad)
    assert info.status is StrategyStatus.FAILED
    assert info.error is not None
    assert info.error.kind == "aborted"
    assert "stopped by the user in on_book" in info.error.message
    assert session.at_end
    assert session.info(good).status is StrategyStatus.ENABLED
    assert session.info(good).finished
    assert session.warnings == []
    session.close()


def test_a_failed_strategy_can_be_enabled_again(sources: list[Source]) -> None:
    session = ReplaySession(sources)
    handle = session.add_strategy(Boom)
    session.run_to_end()
    assert session.info(handle).status is StrategyStatus.FAILED
    session.enable(handle)
    # It runs afresh from the start and fails again at the same message.
    info = session.info(handle)
    assert info.status is StrategyStatus.FAILED
    assert info.error is not None
    assert "message 50" in info.error.message


class HangInContext(Strategy):
    """Loops forever mostly inside the simulator's own code (the context's queries)."""

    name = "hang_in_ctx"

    def __init__(self, params: object = None) -> None:
        super().__init__(params)
        self.seen = 0

    def on_book(self, ctx: StrategyContext, book: object) -> None:
        self.seen += 1
        while self.seen >= 20:
            for _ in range(1000):
                ctx.pnl  # noqa: B018 - the point is to spend the time in the context
                ctx.open_orders  # noqa: B018


def test_an_abort_waits_until_the_callback_is_back_in_its_own_code(sources: list[Source]) -> None:
    session = ReplaySession(sources, SessionSettings(callback_budget_s=0.2))
    bad = session.add_strategy(HangInContext)
    session.run_to_end()
    info = session.info(bad)
    assert info.status is StrategyStatus.FAILED
    assert info.error is not None
    assert info.error.kind == "timeout"
    frames = [line for line in info.error.traceback.splitlines() if line.lstrip().startswith("File ")]
    assert "test_session_isolation.py" in frames[-1]  # it landed in the strategy's own code
    assert session.at_end
    assert session.warnings == []
    session.close()
