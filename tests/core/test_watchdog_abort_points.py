"""A strategy abort can land at any instruction of the replay thread; it must never leave an
account or a simulated exchange half-updated, nor change another strategy's results.

Aborting "at every point": the replay of one busy instant (fills delivered, callbacks sending
and cancelling orders, two strategies) runs under ``sys.settrace``; its line events are numbered,
and run k asks for an abort at line event k. From there on, the abort is raised at the first line
event where the watchdog's policy (``StrategyWatchdog.target``) allows it to land, exactly as the
real watchdog's asynchronous exception lands where the replay thread stood when it was raised.
"""

from __future__ import annotations

import math
import sys
from types import FrameType
from typing import Any

import pytest

from replayterm.core.data import Source, open_sources
from replayterm.core.data.synthetic import generate_files
from replayterm.core.execution.account import Account
from replayterm.core.execution.exchange import SimExchange
from replayterm.core.execution.latency import ConstantLatency
from replayterm.core.execution.orders import Order
from replayterm.core.session import ReplaySession, SessionSettings
from replayterm.core.strategy import Strategy, StrategyAborted, StrategyContext, StrategyStatus
from replayterm.core.strategy.slot import StrategySlot


class Churn(Strategy):
    """Quotes at the touch, cancels, crosses the spread now and then and trims its position on
    fills: the exchange and the account have work at most instants."""

    name = "churn"

    def __init__(self, params: object = None) -> None:
        super().__init__(params)
        self.n = 0

    def on_book(self, ctx: StrategyContext, book: Any) -> None:
        self.n += 1
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None or self.n % 3:
            return
        if self.n % 21 == 0:
            ctx.cancel_all()
        elif len(ctx.open_orders) < 2:
            ctx.submit(Order.limit(1, 0.01, bid[0]))
            ctx.submit(Order.limit(-1, 0.01, ask[0]))
        if self.n % 33 == 0:
            ctx.submit(Order.market(1 if self.n % 2 else -1, 0.01))

    def on_fill(self, ctx: StrategyContext, fill: Any) -> None:
        ctx.signal("fill", fill.side)
        ctx.plot("position", ctx.position)
        if abs(ctx.position) > 0.025:
            ctx.submit(Order.limit(-fill.side, 0.01, fill.price))
        far = ctx.submit(Order.limit(fill.side, 0.01, fill.price * (1 - 0.05 * fill.side)))
        ctx.cancel(far)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Source]:
    g = generate_files(tmp_path_factory.mktemp("market"), minutes=0.25, seed=11)
    return open_sources([g.book, g.trades], use_cache=False)


SETTINGS = SessionSettings(latency=ConstantLatency(2_000, 2_000))


def _session(sources: list[Source]) -> tuple[ReplaySession, StrategySlot, StrategySlot]:
    session = ReplaySession(sources, SETTINGS)
    victim = session._slot(session.add_strategy(Churn))
    other = session._slot(session.add_strategy(Churn))
    return session, victim, other


def _busy_instant(sources: list[Source]) -> int:
    """A receive time at which the victim gets fills and both strategies send orders."""
    session, victim, _ = _session(sources)
    session.advance_to(session.start_ts + 3_000_000)
    fills = [f.local_ts for f in victim.account.fills]
    session.close()
    assert fills
    return fills[2]


def _account_state(account: Account) -> tuple:
    orders = tuple((o.order_id, o.status, o.filled, o.cancel_requested) for o in account.orders.values())
    fills = tuple((f.local_ts, f.order_id, f.side, f.price, f.amount, f.fee) for f in account.fills)
    return (account.position, account.cash, account.fees_paid, account.realized_pnl, orders, fills)


def _check_consistent(account: Account, exchange: SimExchange) -> None:
    """The account equals the sum of its fills, and every order it believes open is known to the
    exchange (in flight, resting, or answered with a response on its way back)."""
    fills = account.fills
    assert math.isclose(account.position, sum(f.side * f.amount for f in fills), abs_tol=1e-12)
    assert math.isclose(account.fees_paid, sum(f.fee for f in fills), abs_tol=1e-12)
    cash = account.initial_cash - sum(f.side * f.price * f.amount + f.fee for f in fills)
    assert math.isclose(account.cash, cash, rel_tol=1e-12, abs_tol=1e-9)
    for state in account.orders.values():
        assert math.isclose(
            state.filled, sum(f.amount for f in fills if f.order_id == state.order_id), abs_tol=1e-12
        )
    known = {r.order_id for r in exchange._requests} | set(exchange._resting)
    known |= {e.order_id for e in exchange._responses}
    for state in account.open_orders():
        assert state.order_id in known, f"order {state.order_id} is open in the account only"


class AbortAt:
    """Trace function: asks for an abort at line event ``k`` and raises it at the first allowed
    point from there, for the victim's callbacks only."""

    def __init__(self, session: ReplaySession, victim: StrategySlot, k: int) -> None:
        self.watchdog = session.watchdog
        self.victim = victim
        self.k = k
        self.count = 0
        self.fired_in: str | None = None

    def __call__(self, frame: FrameType, event: str, arg: object) -> Any:
        if event == "line" and self.fired_in is None:
            self.count += 1
            if self.count >= self.k:
                found = self.watchdog.target(frame)
                if found is not None and found[0] is self.victim.ctx:
                    self.fired_in = f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}"
                    self.watchdog._pending = (found[0], "aborted", "stopped at a traced point")
                    raise StrategyAborted
        return self


def _run(
    sources: list[Source], t: int, k: int | None
) -> tuple[ReplaySession, StrategySlot, StrategySlot, Any]:
    session, victim, other = _session(sources)
    session.advance_to(t - 1)
    tracer = AbortAt(session, victim, k if k is not None else 1 << 60)
    sys.settrace(tracer)
    try:
        session.advance_to(t)
    finally:
        sys.settrace(None)
    session.advance_to(t + 500_000)
    return session, victim, other, tracer


@pytest.mark.slow  # tens of seconds; `make test` runs it, `pytest -m "not slow"` skips it
def test_an_abort_at_any_point_of_an_instant_leaves_every_account_consistent(sources: list[Source]) -> None:
    t = _busy_instant(sources)
    clean, _, clean_other, counter = _run(sources, t, None)
    points = counter.count
    assert points > 100
    reference = _account_state(clean_other.account)
    clean.close()
    landed: set[str] = set()
    for k in range(1, points + 1):
        session, victim, other, tracer = _run(sources, t, k)
        where = f"abort asked at line event {k} of {points}, landed in {tracer.fired_in}"
        assert _account_state(other.account) == reference, where
        _check_consistent(victim.account, victim.exchange)
        _check_consistent(other.account, other.exchange)
        if tracer.fired_in is not None:
            landed.add(tracer.fired_in)
            assert victim.status is StrategyStatus.FAILED, where
            assert victim.error is not None
            assert victim.error.kind == "aborted"
        assert session.warnings == [], where
        session.close()
    # It landed at many points, all in the strategy's own code: from a point inside the
    # simulator (ctx.submit -> exchange -> account) it waited for the strategy's next line.
    assert len(landed) >= 5
    assert all(w.startswith(__file__) for w in landed), landed
