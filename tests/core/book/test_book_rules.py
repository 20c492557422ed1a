"""One hand-made book per rule of DESIGN §3."""

from __future__ import annotations

import numpy as np
import pytest

from replayterm.core.book import BookReplayer, build_checkpoints
from replayterm.core.errors import DataError

B, A = 1, -1
S, U = True, False  # is_snapshot


def levels(rp: BookReplayer, side: int) -> list[tuple[float, float]]:
    return [tuple(x) for x in rp.book.levels(side, 100).tolist()]


def replay(make_events, rows, **kw) -> BookReplayer:
    rp = BookReplayer(make_events(rows, **kw))
    rp.run_to_end()
    return rp


def test_amount_is_absolute_not_a_delta(make_events) -> None:
    rp = replay(
        make_events,
        [(1, B, 100.0, 2.0, S), (1, A, 101.0, 1.0, S), (2, B, 100.0, 5.0, U), (3, B, 100.0, 0.5, U)],
    )
    assert rp.book.best_bid() == (100.0, 0.5)
    assert rp.book.level_count(B) == 1


def test_zero_deletes_and_best_moves_to_next_level(make_events) -> None:
    rows = [(1, B, 100.0, 1.0, S), (1, B, 99.0, 2.0, S), (1, B, 97.0, 3.0, S), (1, A, 101.0, 1.0, S)]
    rp = replay(make_events, [*rows, (2, B, 100.0, 0.0, U), (3, B, 99.0, 0.0, U)])
    assert rp.book.best_bid() == (97.0, 3.0)
    assert levels(rp, B) == [(97.0, 3.0)]
    assert rp.book.level_count(B) == 1
    rp = replay(make_events, [*rows, (2, B, 97.0, 0.0, U), (3, A, 101.0, 0.0, U)])
    assert levels(rp, B) == [(100.0, 1.0), (99.0, 2.0)]
    assert rp.book.best_ask() is None
    assert rp.book.level_count(A) == 0


def test_deleting_an_unknown_level_is_a_no_op(make_events) -> None:
    base = [(1, B, 100.0, 1.0, S), (1, A, 101.0, 1.0, S)]
    ref = replay(make_events, [*base, (2, B, 100.0, 1.0, U)])
    # 99 and 102 exist in the price grid (a later row uses them) but hold no level when deleted.
    rp = replay(
        make_events,
        [*base, (2, B, 99.0, 0.0, U), (2, A, 102.0, 0.0, U), (3, A, 100.5, 0.0, U), (4, B, 100.0, 1.0, U)],
    )
    assert levels(rp, B) == levels(ref, B) == [(100.0, 1.0)]
    assert levels(rp, A) == [(101.0, 1.0)]
    assert rp.book.level_count(B) == 1
    assert rp.book.level_count(A) == 1
    assert rp.book.crossed_removals == 0


def test_book_is_observable_only_after_whole_messages(make_events) -> None:
    # Message 2 deletes the best bid and adds a better one; message 3 has three rows.
    ev = make_events(
        [
            (1, B, 100.0, 1.0, S),
            (1, A, 102.0, 1.0, S),
            (2, B, 100.0, 0.0, U),
            (2, B, 101.0, 4.0, U),
            (3, A, 102.0, 0.0, U),
            (3, A, 103.0, 2.0, U),
            (3, B, 101.0, 3.0, U),
        ]
    )
    assert ev.n_groups == 3
    assert ev.group_start.tolist() == [0, 2, 4, 7]
    rp = BookReplayer(ev)
    assert rp.step() == 0
    assert rp.position == 1
    assert rp.ts == 1
    assert rp.book.best_bid() == (100.0, 1.0)
    assert rp.step() == 1
    assert levels(rp, B) == [(101.0, 4.0)]
    assert rp.step() == 2
    assert rp.book.best_ask() == (103.0, 2.0)
    assert rp.book.best_bid() == (101.0, 3.0)
    assert rp.step() == -1
    assert rp.at_end
    # apply_until stops on message boundaries: ts 2 applies all rows of message 2, none of 3.
    rp.seek(0)
    assert rp.position == 0
    assert rp.book.best_bid() is None
    assert rp.apply_until(2) == 2
    assert levels(rp, B) == [(101.0, 4.0)]
    assert levels(rp, A) == [(102.0, 1.0)]


def test_snapshot_after_update_clears_both_sides(make_events) -> None:
    rows = [
        (1, B, 100.0, 1.0, S),
        (1, A, 101.0, 1.0, S),
        (2, B, 99.0, 2.0, U),
        (2, A, 105.0, 2.0, U),
        (3, B, 98.0, 7.0, S),  # new snapshot split over two messages
        (4, A, 99.5, 8.0, S),  # still the same snapshot: no second clear
        (5, B, 98.5, 1.0, U),
    ]
    ev = make_events(rows)
    assert ev.reset.tolist() == [True, False, True, False, False]
    assert ev.resnapshot_groups.tolist() == [2]
    assert ev.resnapshot_ts.tolist() == [3]
    rp = BookReplayer(ev)
    rp.apply_until(3)
    assert levels(rp, B) == [(98.0, 7.0)]
    assert levels(rp, A) == []
    rp.run_to_end()
    assert levels(rp, B) == [(98.5, 1.0), (98.0, 7.0)]
    assert levels(rp, A) == [(99.5, 8.0)]


def test_snapshot_starting_inside_a_message_discards_the_rows_before_it(make_events) -> None:
    rows = [
        (1, B, 100.0, 1.0, S),
        (1, A, 101.0, 1.0, S),
        (2, B, 99.0, 2.0, U),
        (2, B, 97.0, 3.0, S),  # snapshot starts mid-message
        (2, A, 98.0, 4.0, S),
    ]
    ev = make_events(rows)
    assert ev.apply_from.tolist() == [0, 3]
    assert ev.reset.tolist() == [True, True]
    rp = replay(make_events, rows)
    assert levels(rp, B) == [(97.0, 3.0)]
    assert levels(rp, A) == [(98.0, 4.0)]


def test_rows_before_the_first_snapshot_are_skipped_and_counted(make_events) -> None:
    rows = [
        (1, B, 100.0, 1.0, U),
        (2, A, 101.0, 1.0, U),
        (3, B, 50.0, 1.0, U),
        (3, B, 99.0, 2.0, S),  # first snapshot starts inside message 3
        (3, A, 102.0, 3.0, S),
        (4, B, 99.0, 0.0, U),
    ]
    ev = make_events(rows)
    assert ev.skipped_rows == 3
    assert ev.skipped_ts.tolist() == [1, 2, 3]
    assert ev.resnapshot_groups.tolist() == []
    rp = BookReplayer(ev)
    seen = []
    while rp.step() >= 0:
        seen.append((rp.skipped_rows, rp.book.best_bid()))
    assert seen == [(1, None), (2, None), (3, (99.0, 2.0)), (3, None)]
    assert levels(rp, A) == [(102.0, 3.0)]


def test_no_snapshot_at_all_applies_nothing(make_events) -> None:
    rp = replay(make_events, [(1, B, 100.0, 1.0, U), (2, A, 101.0, 1.0, U)])
    assert rp.book.best_bid() is None
    assert rp.book.best_ask() is None
    assert rp.skipped_rows == 2
    assert rp.events.skipped_ts.tolist() == [1, 2]


BOOK = [(1, B, 100.0, 1.0, S), (1, B, 99.0, 1.0, S), (1, A, 101.0, 1.0, S), (1, A, 102.0, 1.0, S)]


def test_crossed_by_a_new_best_ask_removes_bids(make_events) -> None:
    # The message puts an ask at 98.5, below both bids: the bids are stale and go.
    rp = replay(make_events, [*BOOK, (2, A, 98.5, 3.0, U)])
    assert levels(rp, B) == []
    assert levels(rp, A) == [(98.5, 3.0), (101.0, 1.0), (102.0, 1.0)]
    assert rp.book.crossed_removals == 2
    assert rp.book.crossed_messages == 1


def test_crossed_by_a_new_best_bid_removes_asks(make_events) -> None:
    rp = replay(make_events, [*BOOK, (2, B, 101.5, 2.0, U)])
    assert levels(rp, B) == [(101.5, 2.0), (100.0, 1.0), (99.0, 1.0)]
    assert levels(rp, A) == [(102.0, 1.0)]
    assert rp.book.crossed_removals == 1
    assert rp.book.crossed_messages == 1


def test_crossed_message_touching_both_sides_removes_asks_unless_it_set_the_best_ask(make_events) -> None:
    # Touches asks at 102 (not the best ask) and bids at 101: best ask 101 stays untouched -> asks go.
    rp = replay(make_events, [*BOOK, (2, A, 102.0, 5.0, U), (2, B, 101.0, 2.0, U)])
    assert levels(rp, A) == [(102.0, 5.0)]
    assert levels(rp, B) == [(101.0, 2.0), (100.0, 1.0), (99.0, 1.0)]
    assert rp.book.crossed_removals == 1
    # Touches the best ask itself (101) and a bid at 101.5: the bids at/above 101 go.
    rp = replay(make_events, [*BOOK, (2, A, 101.0, 5.0, U), (2, B, 101.5, 2.0, U)])
    assert levels(rp, A) == [(101.0, 5.0), (102.0, 1.0)]
    assert levels(rp, B) == [(100.0, 1.0), (99.0, 1.0)]
    assert rp.book.crossed_removals == 1


def test_locked_book_is_trimmed_and_removals_accumulate(make_events) -> None:
    rows = [*BOOK, (2, B, 101.0, 2.0, U), (3, A, 99.0, 1.0, U)]
    ev = make_events(rows)
    rp = BookReplayer(ev)
    rp.apply_until(2)
    assert levels(rp, A) == [(102.0, 1.0)]  # bid at 101 locked with the ask at 101: the ask went
    rp.run_to_end()
    # 99 ask crosses bids 101, 100 and locks 99: three bids removed, nothing left on that side.
    assert levels(rp, B) == []
    assert levels(rp, A) == [(99.0, 1.0), (102.0, 1.0)]
    assert rp.book.crossed_removals == 4
    assert rp.book.crossed_messages == 2
    assert build_checkpoints(ev).crossed_groups.tolist() == [1, 2]


def test_full_snapshot_each_message_replaces_the_book(make_events) -> None:
    rows = [
        (1, B, 100.0, 1.0, S),
        (1, A, 101.0, 1.0, S),
        (2, B, 99.0, 2.0, S),
        (2, A, 100.5, 2.0, S),
        (3, B, 98.0, 3.0, S),
    ]
    ev = make_events(rows, full_snapshot_each_message=True)
    assert ev.reset.tolist() == [True, True, True]
    assert ev.resnapshot_groups.tolist() == []  # not gaps: every message is a snapshot
    rp = BookReplayer(ev)
    rp.apply_until(2)
    assert levels(rp, B) == [(99.0, 2.0)]
    assert levels(rp, A) == [(100.5, 2.0)]
    rp.run_to_end()
    assert levels(rp, B) == [(98.0, 3.0)]
    assert levels(rp, A) == []
    # Without the flag these consecutive snapshot rows form one growing snapshot.
    rp = replay(make_events, rows)
    assert levels(rp, B) == [(100.0, 1.0), (99.0, 2.0), (98.0, 3.0)]
    assert levels(rp, A) == [(100.5, 2.0), (101.0, 1.0)]


def test_group_ts_never_goes_backwards(make_events) -> None:
    ev = make_events(
        [(5, B, 100.0, 1.0, S), (3, A, 101.0, 1.0, U), (3, A, 102.0, 1.0, U), (6, B, 99.0, 1.0, U)]
    )
    assert ev.n_groups == 3
    assert ev.group_ts.tolist() == [5, 5, 6]
    assert ev.ts_backwards == 1
    rp = BookReplayer(ev)
    rp.apply_until(5)
    assert rp.position == 2


def test_empty_input(make_events) -> None:
    ev = make_events([])
    rp = BookReplayer(ev)
    assert ev.n_groups == 0
    assert rp.step() == -1
    assert rp.at_end
    rp.seek(10**18)
    assert rp.book.best_bid() is None
    assert rp.ts is None
    assert len(build_checkpoints(ev)) == 0


@pytest.mark.parametrize(
    ("column", "value", "needle"),
    [("side", 0, "side must be"), ("price", np.nan, "price must be"), ("amount", -1.0, "amount must be")],
)
def test_bad_rows_raise_data_error(column: str, value: float, needle: str) -> None:
    from replayterm.core.book import BookEvents

    cols = {
        "local_ts": np.array([1, 2, 3]),
        "exch_ts": np.array([1, 2, 3]),
        "side": np.array([1, -1, 1], dtype=np.int8),
        "price": np.array([1.0, 2.0, 3.0]),
        "amount": np.array([1.0, 2.0, 3.0]),
        "is_snapshot": np.array([True, False, False]),
    }
    cols[column][1] = value
    with pytest.raises(DataError, match=needle) as info:
        BookEvents.from_arrays(**cols, source="x.csv")
    assert "row 1" in str(info.value)
    assert "x.csv" in str(info.value)
    cols[column] = cols[column][:2]
    with pytest.raises(DataError, match="rows"):
        BookEvents.from_arrays(**cols)


def test_batch_kernels_release_the_gil() -> None:
    from replayterm.core.book import kernel

    for fn in (kernel.apply_groups, kernel.apply_groups_logged, kernel.restore_state, kernel.extract_side):
        assert fn.targetoptions.get("nogil") is True, fn.__name__
