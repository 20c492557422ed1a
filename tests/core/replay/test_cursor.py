from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from replayterm.core.data.model import Kind, Source
from replayterm.core.replay.cursor import EventKind, ReplayCursor
from replayterm.core.replay.instruments import build_instruments


def book_source(rng: np.random.Generator, n_groups: int, symbol: str, resnapshot_at: int = -1) -> Source:
    ts, side, price, amount, snap = [], [], [], [], []
    t = 1_000_000
    for g in range(n_groups):
        t += int(rng.integers(1, 5)) * 1000
        snapshot = g == 0 or g == resnapshot_at
        rows = 20 if snapshot else int(rng.integers(1, 6))
        for r in range(rows):
            is_bid = r % 2 == 0
            level = int(rng.integers(0, 10))
            ts.append(t)
            side.append(1 if is_bid else -1)
            price.append(100.0 - 0.5 - level * 0.5 if is_bid else 100.0 + 0.5 + level * 0.5)
            amount.append(0.0 if (not snapshot and rng.random() < 0.3) else float(rng.integers(1, 9)))
            snap.append(snapshot)
    n = len(ts)
    table = pa.table(
        {
            "local_ts": pa.array(ts, pa.int64()),
            "exch_ts": pa.array(ts, pa.int64()),
            "side": pa.array(side, pa.int8()),
            "price": pa.array(price, pa.float64()),
            "amount": pa.array(amount, pa.float64()),
            "is_snapshot": pa.array(snap, pa.bool_()),
        }
    )
    assert table.num_rows == n
    return Source(Path(f"{symbol}_book.csv"), Kind.BOOK, "test", symbol, table)


def trade_source(rng: np.random.Generator, n: int, start: int, stop: int, symbol: str) -> Source:
    ts = np.sort(rng.integers(start, stop, size=n))
    table = pa.table(
        {
            "local_ts": pa.array(ts, pa.int64()),
            "exch_ts": pa.array(ts, pa.int64()),
            "side": pa.array(rng.choice([-1, 1], size=n).astype(np.int8)),
            "price": pa.array(np.full(n, 100.0)),
            "amount": pa.array(rng.random(n)),
            "id": pa.array([str(i) for i in range(n)]),
        }
    )
    return Source(Path(f"{symbol}_trades.csv"), Kind.TRADES, "test", symbol, table)


@pytest.fixture
def cursor() -> ReplayCursor:
    rng = np.random.default_rng(11)
    a = book_source(rng, 300, "AAA", resnapshot_at=150)
    b = book_source(rng, 200, "BBB")
    ta = trade_source(rng, 120, 1_000_000, 1_900_000, "AAA")
    instruments = build_instruments([a, ta, b], checkpoint_budget_fraction=0.5)
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
