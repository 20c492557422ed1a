"""A metric over two parameters, as a matrix: the data behind the sweep heatmap.

Cell (y, x) is the mean of the metric over the finished runs (status ok, value present) with
that pair of values — over all days and all values of the other parameters. A pair with no such
run is NaN (drawn empty).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from replayterm.batch.jobs import OK


@dataclass(frozen=True)
class Pivot:
    x: list[Any]  # values of the x parameter, sorted
    y: list[Any]
    values: np.ndarray  # shape (len(y), len(x)), float64, NaN where no run finished
    counts: np.ndarray  # runs averaged into each cell


def _sort_key(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, int | float) else (1, str(v))


def pivot(rows: Sequence[Mapping[str, Any]], x: str, y: str, metric: str) -> Pivot:
    xs = sorted({r.get(x) for r in rows}, key=_sort_key)
    ys = sorted({r.get(y) for r in rows}, key=_sort_key)
    xi = {v: i for i, v in enumerate(xs)}
    yi = {v: i for i, v in enumerate(ys)}
    total = np.zeros((len(ys), len(xs)))
    counts = np.zeros((len(ys), len(xs)), dtype=np.int64)
    for r in rows:
        value = r.get(metric)
        if r.get("status") != OK or value is None or not np.isfinite(value):
            continue
        j, i = yi[r.get(y)], xi[r.get(x)]
        total[j, i] += float(value)
        counts[j, i] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(counts > 0, total / np.maximum(counts, 1), np.nan)
    return Pivot(xs, ys, values, counts)
