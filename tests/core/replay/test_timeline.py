from __future__ import annotations

import numpy as np

from replayterm.core.replay.timeline import Timeline, TimelineInput


def test_trades_come_before_book_at_equal_time_then_source_then_row_order() -> None:
    book = TimelineInput(np.array([10, 20, 30]), is_book=True)
    trades = TimelineInput(np.array([10, 10, 25]), is_book=False)
    other_book = TimelineInput(np.array([10, 30]), is_book=True)
    tl = Timeline.build([book, trades, other_book])
    pairs = list(zip(tl.ts.tolist(), tl.stream.tolist(), tl.item.tolist(), strict=True))
    assert pairs == [
        (10, 1, 0),
        (10, 1, 1),
        (10, 0, 0),
        (10, 2, 0),
        (20, 0, 1),
        (25, 1, 2),
        (30, 0, 2),
        (30, 2, 1),
    ]


def test_position_and_next_of_stream() -> None:
    tl = Timeline.build([TimelineInput(np.array([1, 2, 3]), True), TimelineInput(np.array([2, 4]), False)])
    assert tl.position_at(0) == 0
    assert tl.position_at(2) == 3
    assert tl.position_at(100) == len(tl) == 5
    assert tl.next_of_stream(0, [1]) == 1
    assert tl.next_of_stream(2, [1]) == 4
    assert tl.next_of_stream(5, [1]) is None


def test_random_merge_is_sorted_and_a_permutation() -> None:
    rng = np.random.default_rng(3)
    inputs = [
        TimelineInput(np.sort(rng.integers(0, 50, size=n)), bool(b)) for n, b in [(40, 1), (30, 0), (25, 1)]
    ]
    tl = Timeline.build(inputs)
    assert np.all(np.diff(tl.ts) >= 0)
    for s, inp in enumerate(inputs):
        items = tl.item[tl.stream == s]
        assert items.tolist() == list(range(len(inp.ts)))
