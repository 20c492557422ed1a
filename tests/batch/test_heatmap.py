"""The heatmap's matrix: means over days and other parameters, empty cells for missing runs."""

from __future__ import annotations

import math
from typing import Any

from replayterm.batch.heatmap import pivot


def row(a: Any, b: Any, value: float | None, status: str = "ok", c: int = 0) -> dict[str, Any]:
    return {"a": a, "b": b, "c": c, "status": status, "net_pnl": value}


def test_cells_average_the_runs_of_each_pair_and_skip_unfinished_ones() -> None:
    rows = [
        row(2, "x", 1.0),
        row(2, "x", 3.0, c=1),  # another value of a third parameter (or another day)
        row(1, "x", 5.0),
        row(1, "y", 7.0, status="failed"),
        row(2, "y", None),
    ]
    p = pivot(rows, "a", "b", "net_pnl")
    assert p.x == [1, 2]
    assert p.y == ["x", "y"]
    assert p.values[0].tolist() == [5.0, 2.0]
    assert math.isnan(p.values[1, 0])
    assert math.isnan(p.values[1, 1])
    assert p.counts.tolist() == [[1, 2], [0, 0]]
