"""Builders for hand-made books: rows as (local_ts, side, price, amount, is_snapshot) tuples."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

from replayterm.core.book import BookEvents

Row = tuple[int, int, float, float, bool]


def events_from_rows(rows: Sequence[Row], *, full_snapshot_each_message: bool = False) -> BookEvents:
    arr = list(zip(*rows, strict=True)) if rows else [[], [], [], [], []]
    ts = np.asarray(arr[0], dtype=np.int64)
    return BookEvents.from_arrays(
        ts,
        ts + 1000,
        np.asarray(arr[1], dtype=np.int8),
        np.asarray(arr[2], dtype=np.float64),
        np.asarray(arr[3], dtype=np.float64),
        np.asarray(arr[4], dtype=np.bool_),
        full_snapshot_each_message=full_snapshot_each_message,
    )


@pytest.fixture
def make_events() -> Callable[..., BookEvents]:
    return events_from_rows
