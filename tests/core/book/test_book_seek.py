"""Seek = straight replay (arrays and counters), checkpoint budget, progress and cancel."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from test_book_random import random_rows

from replayterm.core.book import Book, BookEvents, BookReplayer, Cancelled, build_checkpoints


def straight_states(ev: BookEvents) -> list[Book]:
    """Book after each position 0..n_groups, by stepping once from the start."""
    rp = BookReplayer(ev)
    states = [rp.book.copy()]
    while rp.step() >= 0:
        states.append(rp.book.copy())
    return states


@pytest.fixture(scope="module", params=[0, 1, 2])
def case(request: pytest.FixtureRequest) -> tuple[BookEvents, list[Book]]:
    ev = BookEvents.from_arrays(*random_rows(100 + request.param, 4000, resnapshots=6))
    assert len(ev.resnapshot_groups) > 0
    assert ev.skipped_rows > 0
    return ev, straight_states(ev)


def interesting_positions(ev: BookEvents, rng: np.random.Generator) -> np.ndarray:
    """Random targets plus the edges: start, end, before/at the first snapshot, around re-snapshots."""
    edges = [0, 1, ev.n_groups, ev.n_groups - 1, ev.first_snapshot_group, ev.first_snapshot_group + 1]
    for g in ev.resnapshot_groups:
        edges += [g - 1, g, g + 1, g + 2]
    targets = np.concatenate([rng.integers(0, ev.n_groups + 1, 150), np.clip(edges, 0, ev.n_groups)])
    rng.shuffle(targets)  # forwards and backwards jumps in random order
    return targets


@pytest.mark.parametrize("budget", [None, 3_000, 0])
def test_seek_group_equals_straight_replay(case, budget: int | None) -> None:
    ev, states = case
    cps = build_checkpoints(ev, budget_bytes=budget, min_interval_rows=64)
    if budget == 0:
        assert len(cps) == 0
    else:
        assert len(cps) >= 3
        assert cps.nbytes <= cps.budget_bytes
    rp = BookReplayer(ev, cps)
    for target in interesting_positions(ev, np.random.default_rng(len(cps))):
        rp.seek_group(int(target))
        assert rp.position == target
        assert rp.book.same_state(states[target]), f"seek to {target}"
        if target % 3 == 0 and target < ev.n_groups:  # stepping on from a seeked state
            rp.step()
            assert rp.book.same_state(states[target + 1])


def test_seek_by_time(case) -> None:
    ev, states = case
    rp = BookReplayer(ev)
    rp.build_checkpoints(budget_bytes=10_000)
    ts = ev.group_ts
    rng = np.random.default_rng(7)
    probes = np.concatenate(
        [rng.integers(ts[0] - 5, ts[-1] + 5, 100), ts[:5], ts[-3:], [ts[0] - 1, ts[-1] + 1]]
    )
    for t in probes:
        rp.seek(int(t))
        expected = int(np.count_nonzero(ts <= t))
        assert rp.position == expected
        assert rp.book.same_state(states[expected])
        assert rp.ts == (int(ts[expected - 1]) if expected else None)
        assert rp.skipped_rows == min(int(ev.group_start[expected]), ev.skipped_rows)


def test_checkpoints_thin_out_to_fit_the_budget(case) -> None:
    ev, _ = case
    fine = build_checkpoints(ev, budget_bytes=10**9, min_interval_rows=32)
    assert fine.interval_rows == 32
    tight = build_checkpoints(ev, budget_bytes=fine.nbytes // 5, min_interval_rows=32)
    assert tight.nbytes <= fine.nbytes // 5 < fine.nbytes
    assert tight.interval_rows >= 32 * 4
    # Thinning keeps the survivors evenly spaced: every kept state is one the fine pass also has.
    assert set(tight.position.tolist()) <= set(fine.position.tolist())
    assert np.all(np.diff(tight.position) > 0)


def test_default_budget_is_ten_percent_of_the_event_columns(case) -> None:
    ev, _ = case
    cps = build_checkpoints(ev, min_interval_rows=16)
    assert cps.budget_bytes == int(ev.source_nbytes * 0.10)
    assert 0 < cps.nbytes <= cps.budget_bytes


def test_progress_rises_to_one_and_cancel_stops(case) -> None:
    ev, _ = case
    seen: list[float] = []
    build_checkpoints(ev, min_interval_rows=64, progress=seen.append)
    assert seen[0] == 0.0
    assert seen[-1] == 1.0
    assert all(b >= a for a, b in itertools.pairwise(seen))
    assert len(seen) > 5

    calls = 0

    def cancel() -> bool:
        nonlocal calls
        calls += 1
        return calls > 3

    rp = BookReplayer(ev)
    with pytest.raises(Cancelled):
        rp.build_checkpoints(cancel=cancel, budget_bytes=10**9, min_interval_rows=64)
    assert rp.checkpoints is None
    assert rp.position == 0


def test_build_leaves_the_live_book_alone_and_records_best_prices(case) -> None:
    ev, states = case
    rp = BookReplayer(ev)
    rp.seek_group(ev.n_groups // 2)
    before = rp.book.copy()
    cps = rp.build_checkpoints(record_best=True)
    assert rp.book.same_state(before)
    bid_px, ask_px = cps.best_prices(ev.prices)
    for g in range(ev.n_groups):
        bb, ba = states[g + 1].best_bid(), states[g + 1].best_ask()
        assert np.isnan(bid_px[g]) if bb is None else bid_px[g] == bb[0]
        assert np.isnan(ask_px[g]) if ba is None else ask_px[g] == ba[0]
    crossed = np.flatnonzero(np.diff([s.crossed_messages for s in states]))
    assert cps.crossed_groups.tolist() == crossed.tolist()
    with pytest.raises(ValueError, match="record_best"):
        build_checkpoints(ev).best_prices(ev.prices)


def test_recorded_top_of_book_history_matches_stepping() -> None:
    """The index pass records best prices and touch imbalance after every message."""
    from replayterm.core.book import BookReplayer

    rng = np.random.default_rng(21)
    n = 3000
    ts = np.repeat(np.arange(n // 3, dtype=np.int64), 3)
    side = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)
    price = np.where(side > 0, 99.0 - rng.integers(0, 20, n) * 0.5, 101.0 + rng.integers(0, 20, n) * 0.5)
    amount = np.where(rng.random(n) < 0.25, 0.0, rng.integers(1, 9, n).astype(np.float64))
    snap = np.zeros(n, dtype=bool)
    snap[:3] = True
    events = BookEvents.from_arrays(ts, ts, side, price, amount, snap)
    replayer = BookReplayer(events)
    cps = replayer.build_checkpoints(record_best=True)
    bid_px, ask_px = cps.best_prices(events.prices)
    imbalance = cps.top_imbalance()
    for g in range(events.n_groups):
        replayer.step()
        top = replayer.book.top_stats(1)
        np.testing.assert_equal([bid_px[g], ask_px[g]], [top.best_bid, top.best_ask])
        np.testing.assert_allclose(imbalance[g], top.imbalance, equal_nan=True)
