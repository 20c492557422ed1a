"""Row order of a file: group rows by (exchange, symbol), then stable-sort each group by local_ts.

Decision: a ``local_timestamp`` that goes backwards is not an error. Real captures contain such
rows (the receiver's clock or a merge step), and refusing them would make those files unusable.
Each group is stably re-sorted by ``local_ts`` (rows of one message keep their order), the number
of late rows is recorded in ``Source.unsorted_rows`` and a warning names the first line where
time went backwards.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


@dataclass
class Group:
    """Rows ``start .. start+length`` of the reordered file share one key."""

    key: int
    start: int
    length: int
    late_rows: int = 0
    first_backwards: int | None = None  # file row (0-based) where local_ts first went backwards


def late_rows(ts: np.ndarray) -> tuple[int, int | None]:
    """How many rows are earlier than some row before them, and the first row that steps back."""
    if ts.size < 2:
        return 0, None
    steps_back = np.flatnonzero(ts[1:] < ts[:-1])
    if steps_back.size == 0:
        return 0, None
    before = np.maximum.accumulate(ts)[:-1]
    return int(np.count_nonzero(ts[1:] < before)), int(steps_back[0] + 1)


def plan(keys: np.ndarray | None, ts: np.ndarray) -> tuple[np.ndarray | None, list[Group]]:
    """The permutation (None = keep the file order) and the groups it produces."""
    if keys is None or keys.size == 0 or bool(np.all(keys == keys[0])):
        key = int(keys[0]) if keys is not None and keys.size else 0
        late, first = late_rows(ts)
        if not late:
            return None, [Group(key, 0, int(ts.size))]
        return np.argsort(ts, kind="stable"), [Group(key, 0, int(ts.size), late, first)]
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    bounds = [0, *(np.flatnonzero(sorted_keys[1:] != sorted_keys[:-1]) + 1).tolist(), int(keys.size)]
    groups = []
    for start, end in itertools.pairwise(bounds):
        rows = order[start:end].copy()
        group_ts = ts[rows]
        late, first = late_rows(group_ts)
        if late:
            order[start:end] = rows[np.argsort(group_ts, kind="stable")]
            first = int(rows[first]) if first is not None else None
        groups.append(Group(int(sorted_keys[start]), start, end - start, late, first))
    return order, groups


def expand(order: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Row permutation for a table where file row i became ``counts[i]`` consecutive rows."""
    starts = np.cumsum(counts) - counts
    moved = counts[order]
    offsets = np.cumsum(moved) - moved
    return np.arange(int(moved.sum()), dtype=np.int64) + np.repeat(starts[order] - offsets, moved)
