from __future__ import annotations

import numpy as np
import pytest
from replay_sources import book_source, trade_source

from reference_index import build_in_memory
from replayterm.core.replay.cursor import EventKind, ReplayCursor


@pytest.fixture
def cursor() -> ReplayCursor:
    rng = np.random.default_rng(11)
    a = book_source(rng, 300, "AAA", resnapshot_at=150)
    b = book_source(rng, 200, "BBB")
    ta = trade_source(rng, 120, 1_000_000, 1_900_000, "AAA")
    instruments = build_in_memory([a, ta, b], 0.5)
    # Small files: force frequent checkpoints so seeks really restore them.
    for inst in instruments:
        assert inst.book is not None
        inst.book.build_checkpoints(min_interval_rows=50, record_best=True)
    return ReplayCursor(instruments)


def book_states(cursor: ReplayCursor) -> list[tuple[bytes, bytes]]:
    return [
        (inst.book.book.amounts.tobytes(), inst.book.book.st.tobytes())
        for inst in cursor.instruments
        if inst.book is not None
    ]


def test_stepping_every_event_matches_advance_and_seek_at_each_time(cursor: ReplayCursor) -> None:
    tl = cursor.timeline
    # State after each distinct time, recorded while stepping one event at a time.
    expected: dict[int, tuple[list[tuple[bytes, bytes]], int]] = {}
    while (event := cursor.step()) is not None:
        p = cursor.position
        if p == len(tl) or tl.ts[p] != event.ts:
            expected[event.ts] = (book_states(cursor), cursor.trades_applied(0))
    times = sorted(expected)
    rng = np.random.default_rng(5)
    targets = [times[0], times[-1], *rng.choice(times, size=40).tolist()]
    for t in targets:  # random order: backwards and forwards
        cursor.seek(int(t))
        assert (book_states(cursor), cursor.trades_applied(0)) == expected[int(t)]
    cursor.reset()
    for t in times[::7]:
        cursor.advance_to(t)
        assert (book_states(cursor), cursor.trades_applied(0)) == expected[t]


def test_trades_come_before_the_book_message_at_the_same_time(cursor: ReplayCursor) -> None:
    seen_book_at: dict[int, int] = {}
    while (event := cursor.step()) is not None:
        if event.kind is EventKind.BOOK and event.instrument == 0:
            seen_book_at[event.ts] = 1
        elif event.kind is EventKind.TRADE:
            assert event.ts not in seen_book_at


def test_step_message_and_step_trade(cursor: ReplayCursor) -> None:
    events = cursor.step_trade()
    assert events
    assert events[-1].kind is EventKind.TRADE
    assert all(e.kind is EventKind.BOOK for e in events[:-1])
    assert cursor.trades_applied(0) == 1
    events = cursor.step_message(instrument=1)
    assert events[-1].kind is EventKind.BOOK
    assert events[-1].instrument == 1


def test_seek_before_start_and_past_end(cursor: ReplayCursor) -> None:
    cursor.seek(0)
    assert cursor.position == 0
    assert all(inst.book.position == 0 for inst in cursor.instruments if inst.book)
    cursor.seek(cursor.end_ts + 10)
    assert cursor.at_end
    assert cursor.step() is None


def test_gaps_include_the_resnapshot(cursor: ReplayCursor) -> None:
    inst = cursor.instruments[0]
    assert inst.book is not None
    assert inst.book.events.resnapshot_ts.tolist() == cursor.gaps().tolist()
