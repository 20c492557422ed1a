"""Queue-position models, alone and inside the exchange."""

from __future__ import annotations

import math

import pytest
from exec_helpers import BID

from replayterm.core.execution import SELL, Fill, LogShare, Order, PowerShare, ProbQueue, RiskAverseQueue


def test_risk_averse_only_bounded_by_level_size() -> None:
    q = RiskAverseQueue()
    assert q.on_depth(10.0, 15.0, 11.0, 0.0) == 10.0  # cancels assumed behind us
    assert q.on_depth(10.0, 15.0, 6.0, 0.0) == 6.0  # the level shrank below our position
    assert q.on_depth(3.0, 5.0, 9.0, 0.0) == 3.0  # growth joins behind


def test_power_share_values() -> None:
    assert PowerShare(1.0)(10.0, 5.0) == pytest.approx(10 / 15)
    assert PowerShare(2.0)(10.0, 5.0) == pytest.approx(100 / 125)
    assert PowerShare(2.0)(0.0, 5.0) == 0.0
    assert PowerShare(2.0)(5.0, 0.0) == 1.0
    assert PowerShare(3.0)(1e200, 1e200) == pytest.approx(0.5)  # no overflow
    with pytest.raises(ValueError, match="power"):
        PowerShare(0.0)


def test_log_share_values() -> None:
    expected = math.log1p(10) / (math.log1p(10) + math.log1p(5))
    assert LogShare()(10.0, 5.0) == pytest.approx(expected)
    assert LogShare(scale=0.5)(5.0, 2.5) == pytest.approx(expected)
    assert LogShare()(0.0, 0.0) == 0.0
    with pytest.raises(ValueError, match="scale"):
        LogShare(scale=-1.0)


@pytest.mark.parametrize(
    ("share", "expected"),
    [
        (PowerShare(1.0), 10 - 4 * 10 / 15),
        (PowerShare(2.0), 10 - 4 * 0.8),
        (LogShare(), 10 - 4 * math.log1p(10) / (math.log1p(10) + math.log1p(5))),
    ],
)
def test_prob_queue_splits_cancellations(share, expected: float) -> None:
    # 10 ahead, 5 behind, the level drops from 15 to 11 without trades: 4 cancelled.
    assert ProbQueue(share).on_depth(10.0, 15.0, 11.0, 0.0) == pytest.approx(expected)


def test_prob_queue_does_not_count_trades_as_cancels() -> None:
    # 7 traded (already taken off ``ahead``: 10 -> 3), the level fell 15 -> 8: no cancellation.
    assert ProbQueue(PowerShare(1.0)).on_depth(3.0, 15.0, 8.0, 7.0) == 3.0


def test_prob_queue_overflow_behind_comes_from_ahead() -> None:
    # 6 ahead, 2 behind, 6 cancelled with only a quarter credited ahead: 4.5 "behind" cannot fit
    # in 2, so 2.5 more came from ahead; 2 are left, all ahead of us.
    assert ProbQueue(lambda front, back: 0.25).on_depth(6.0, 8.0, 2.0, 0.0) == pytest.approx(2.0)


def test_prob_queue_growth_leaves_position() -> None:
    assert ProbQueue().on_depth(4.0, 5.0, 9.0, 0.0) == 4.0


def _queue_scenario(make_driver, model) -> list[Fill]:
    """Bid 99 x 10; we join it; it grows to 15, loses 4 to cancels, then 7 trade, then 1 trades."""
    d = make_driver(queue=model)
    d.book.set(BID, 99.0, 10.0)
    d.start(1)
    d.ex.submit(1, Order.limit(1, 1.0, 99.0))
    d.at(1)
    d.book_msg(2, [(BID, 99.0, 15.0)])
    d.book_msg(3, [(BID, 99.0, 11.0)])
    d.trade(4, SELL, 99.0, 7.0)
    d.book_msg(5, [(BID, 99.0, 4.0)])
    d.trade(6, SELL, 99.0, 1.0)
    return [e for e in d.delivered if isinstance(e, Fill)]


def test_risk_averse_advances_only_on_trades(make_driver) -> None:
    # ahead: 10 -> 10 (cancels behind) -> 3 (trade 7) -> 3 -> 2 (trade 1): no fill.
    assert _queue_scenario(make_driver, RiskAverseQueue()) == []


def test_probabilistic_advances_on_cancels_too(make_driver) -> None:
    # ahead: 10 -> 10 - 4·(10/15) = 7.333 -> 0.333 (trade 7) -> 0.333 (no cancel) -> fill 0.667.
    [fill] = _queue_scenario(make_driver, ProbQueue(PowerShare(1.0)))
    assert fill.amount == pytest.approx(1.0 - (10 - 4 * 10 / 15 - 7))
    assert fill.leaves == pytest.approx(1.0 - fill.amount)
