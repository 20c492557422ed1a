"""Per-day windows over the files' receive-time spans, and walk-forward splits."""

from __future__ import annotations

import pytest

from replayterm.batch import Split, day_windows, walk_forward_splits
from replayterm.batch.days import DAY_US, FileSpan, day_label
from replayterm.core.data import parse_time

D1 = parse_time("2024-01-01T00:00:00Z")


def test_one_file_per_day_gives_plain_windows() -> None:
    spans = [
        FileSpan("book1", D1 + 5, D1 + 1000),
        FileSpan("trades1", D1 + 7, D1 + 900),
        FileSpan("book2", D1 + DAY_US, D1 + DAY_US + 50),
        FileSpan("empty", None, None),
    ]
    windows = day_windows(spans)
    assert [w.day for w in windows] == ["2024-01-01", "2024-01-02"]
    assert windows[0].files == ("book1", "trades1")
    assert windows[1].files == ("book2",)
    assert all(w.from_ts is None and w.to_ts is None for w in windows)  # nothing to cut


def test_a_file_over_several_days_is_cut_at_midnight() -> None:
    spans = [FileSpan("week", D1 + 10, D1 + 2 * DAY_US + 10)]
    windows = day_windows(spans)
    assert [w.day for w in windows] == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert (windows[0].from_ts, windows[0].to_ts) == (None, D1 + DAY_US)
    assert (windows[1].from_ts, windows[1].to_ts) == (D1 + DAY_US, D1 + 2 * DAY_US)
    assert (windows[2].from_ts, windows[2].to_ts) == (D1 + 2 * DAY_US, None)


def test_from_and_to_cut_the_days() -> None:
    spans = [FileSpan("week", D1, D1 + 3 * DAY_US - 1)]
    windows = day_windows(spans, D1 + DAY_US + 100, D1 + 2 * DAY_US + 200)
    assert [w.day for w in windows] == ["2024-01-02", "2024-01-03"]
    assert (windows[0].from_ts, windows[0].to_ts) == (D1 + DAY_US + 100, D1 + 2 * DAY_US)
    assert (windows[1].from_ts, windows[1].to_ts) == (D1 + 2 * DAY_US, D1 + 2 * DAY_US + 200)


def test_day_labels_are_utc_dates() -> None:
    assert day_label(D1 + DAY_US - 1) == "2024-01-01"
    assert day_label(D1 + DAY_US) == "2024-01-02"


def test_walk_forward_splits_move_by_the_test_length() -> None:
    days = [f"d{i}" for i in range(7)]
    assert walk_forward_splits(days, 3, 2) == [
        Split(0, ("d0", "d1", "d2"), ("d3", "d4")),
        Split(1, ("d2", "d3", "d4"), ("d5", "d6")),
    ]
    one = walk_forward_splits(days, 1, 1)
    assert len(one) == 6
    assert one[-1] == Split(5, ("d5",), ("d6",))
    # a test window that would run past the data is left out
    assert [s.test for s in walk_forward_splits(days[:6], 3, 2)] == [("d3", "d4")]


def test_walk_forward_needs_enough_days() -> None:
    with pytest.raises(ValueError, match="needs at least 5 days"):
        walk_forward_splits(["a", "b", "c"], 3, 2)
    with pytest.raises(ValueError, match=">= 1"):
        walk_forward_splits(["a", "b"], 0, 1)
