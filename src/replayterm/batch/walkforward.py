"""Walk-forward selection over the per-day rows of a sweep.

For each split (see ``days.walk_forward_splits``) every combination gets a train score: the mean
of the chosen metric over its train days. A combination is eligible only if all its train runs
finished (status ok) and at least one has a value for the metric. The best score wins — the
highest, or the lowest for metrics where less is better (drawdowns, fees); a tie goes to the
combination that comes first in the grid. The winner's runs on the test days are the
out-of-sample result: one output row per (split, test day).

Every day is run as its own session, starting flat: a position is not carried from a train day
into a test day, so each test day's figures are those of a fresh ``backtest`` of that day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from replayterm.batch.days import Split
from replayterm.batch.jobs import OK

LOWER_IS_BETTER = frozenset({"max_drawdown", "max_drawdown_pct", "fees"})


@dataclass(frozen=True)
class Choice:
    """The combination chosen on a split's train days (None when no combination was eligible)."""

    split: Split
    combo: int | None
    score: float | None


def better(metric: str, a: float, b: float) -> bool:
    """Is score ``a`` strictly better than ``b`` for ``metric``?"""
    return a < b if metric in LOWER_IS_BETTER else a > b


def choose(split: Split, rows: Sequence[Mapping[str, Any]], combos: int, metric: str) -> Choice:
    """Pick the best combination on the split's train days. ``rows`` carry ``combo``, ``day``,
    ``status`` and the metric."""
    by_key = {(r["combo"], r["day"]): r for r in rows}
    best: tuple[int, float] | None = None
    for combo in range(combos):
        train = [by_key.get((combo, day)) for day in split.train]
        if any(r is None or r["status"] != OK for r in train):
            continue
        values = [float(r[metric]) for r in train if r is not None and r[metric] is not None]
        if not values:
            continue
        score = sum(values) / len(values)
        if best is None or better(metric, score, best[1]):
            best = (combo, score)
    if best is None:
        return Choice(split, None, None)
    return Choice(split, best[0], best[1])
