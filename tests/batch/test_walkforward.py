"""Choosing a combination on train days: mean of the metric, direction, ties and failures."""

from __future__ import annotations

from typing import Any

from replayterm.batch import Split
from replayterm.batch.walkforward import choose

SPLIT = Split(0, ("d0", "d1"), ("d2",))


def row(combo: int, day: str, value: float | None, status: str = "ok") -> dict[str, Any]:
    return {"combo": combo, "day": day, "status": status, "net_pnl": value, "max_drawdown": value}


def test_the_best_mean_over_the_train_days_wins() -> None:
    rows = [row(0, "d0", 5.0), row(0, "d1", -4.0), row(1, "d0", 1.0), row(1, "d1", 1.0), row(1, "d2", 9.0)]
    choice = choose(SPLIT, rows, 2, "net_pnl")
    assert (choice.combo, choice.score) == (1, 1.0)


def test_lower_is_better_for_drawdowns() -> None:
    rows = [row(0, "d0", 5.0), row(0, "d1", 5.0), row(1, "d0", 1.0), row(1, "d1", 2.0)]
    assert choose(SPLIT, rows, 2, "max_drawdown").combo == 1
    assert choose(SPLIT, rows, 2, "net_pnl").combo == 0


def test_ties_go_to_the_first_combination() -> None:
    rows = [row(c, d, 1.0) for c in range(3) for d in ("d0", "d1")]
    assert choose(SPLIT, rows, 3, "net_pnl").combo == 0


def test_a_combination_with_a_failed_or_missing_train_day_is_not_eligible() -> None:
    rows = [row(0, "d0", 50.0), row(0, "d1", 50.0, "failed"), row(1, "d0", 1.0), row(1, "d1", None)]
    rows += [row(2, "d0", 99.0)]  # d1 never ran
    choice = choose(SPLIT, rows, 3, "net_pnl")
    assert (choice.combo, choice.score) == (1, 1.0)  # None values are skipped in the mean
    assert choose(SPLIT, [row(0, "d0", 1.0, "error")], 1, "net_pnl").combo is None
