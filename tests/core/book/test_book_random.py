"""Randomized books against a naive dict reference written straight from DESIGN §3.

The generator mixes bids and asks over one narrow price range (so crossed books are frequent),
zero amounts (deletes, many of unknown levels), rows before the first snapshot, snapshots that
restart mid-stream and mid-message, and backward timestamps.
"""

from __future__ import annotations

import numpy as np
import pytest

from replayterm.core.book import BookEvents, BookReplayer

Levels = list[tuple[float, float]]


def reference(
    ts: np.ndarray, side: np.ndarray, price: np.ndarray, amount: np.ndarray, snap: np.ndarray, full_each: bool
) -> list[tuple[Levels, Levels, int]]:
    """(bids best first, asks best first, crossed removals so far) after every message."""
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    started = False
    prev_snap = False
    removals = 0
    out = []
    n = len(ts)
    r = 0
    while r < n:
        e = r
        while e < n and ts[e] == ts[r]:
            e += 1
        applied: list[int] = []
        if full_each and started:
            bids.clear()
            asks.clear()
        for i in range(r, e):
            is_snap = bool(snap[i])
            if (is_snap and not prev_snap and not full_each) or (is_snap and full_each and not started):
                bids.clear()
                asks.clear()
                applied.clear()
                started = True
            prev_snap = is_snap
            if not started:
                continue
            applied.append(i)
            book = bids if side[i] > 0 else asks
            if amount[i] == 0:
                book.pop(float(price[i]), None)
            else:
                book[float(price[i])] = float(amount[i])
        if bids and asks and max(bids) >= min(asks):
            best_ask = min(asks)
            trim_bids = any(side[i] < 0 and price[i] == best_ask for i in applied)
            while bids and asks and max(bids) >= min(asks):
                if trim_bids:
                    del bids[max(bids)]
                else:
                    del asks[min(asks)]
                removals += 1
        out.append(
            (sorted(bids.items(), reverse=True), sorted(asks.items()), removals),
        )
        r = e
    return out


def random_rows(seed: int, n: int = 400, resnapshots: int | None = None) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    ts = np.cumsum(rng.integers(0, 3, n) * (rng.random(n) < 0.6)).astype(np.int64)
    ts[rng.random(n) < 0.02] -= 2  # receive clock stepping back now and then
    side = np.where(rng.random(n) < 0.5, 1, -1).astype(np.int8)
    mid = 100 + np.cumsum(rng.integers(-1, 2, n)) * 0.5
    price = np.round(mid + side * -rng.integers(0, 8, n) * 0.5 + rng.integers(-2, 3, n) * 0.5, 1)
    price = np.maximum(price, 0.5)
    amount = np.round(rng.random(n) * 5, 3)
    amount[rng.random(n) < 0.3] = 0.0
    snap = np.zeros(n, dtype=np.bool_)
    first = int(rng.integers(0, 20)) if resnapshots is None else 5
    snap[first : first + int(rng.integers(1, 30))] = True
    for _ in range(int(rng.integers(0, 4)) if resnapshots is None else resnapshots):
        s = int(rng.integers(first + 40, n))
        snap[s : s + int(rng.integers(1, 25))] = True
    return ts, ts + 7, side, price, amount, snap


def levels_of(rp: BookReplayer) -> tuple[Levels, Levels, int]:
    bids = [tuple(x) for x in rp.book.levels(1, 10_000).tolist()]
    asks = [tuple(x) for x in rp.book.levels(-1, 10_000).tolist()]
    return bids, asks, rp.book.crossed_removals


@pytest.mark.parametrize("full_each", [False, True])
@pytest.mark.parametrize("seed", range(25))
def test_matches_reference_after_every_message(seed: int, full_each: bool) -> None:
    cols = random_rows(seed)
    ev = BookEvents.from_arrays(*cols, full_snapshot_each_message=full_each)
    expected = reference(cols[0], cols[2], cols[3], cols[4], cols[5], full_each)
    assert len(expected) == ev.n_groups
    rp = BookReplayer(ev)
    for g, exp in enumerate(expected):
        assert rp.step() == g
        got = levels_of(rp)
        assert got == exp, f"seed {seed}, after group {g}"
        assert rp.book.level_count(1) == len(exp[0])
        assert rp.book.level_count(-1) == len(exp[1])
    assert rp.step() == -1


@pytest.mark.parametrize("seed", range(10))
def test_batch_and_per_message_paths_are_identical(seed: int) -> None:
    ev = BookEvents.from_arrays(*random_rows(seed, 1500))
    stepped = BookReplayer(ev)
    batched = BookReplayer(ev)
    rng = np.random.default_rng(seed)
    stops = np.unique(np.append(rng.integers(0, ev.n_groups + 1, 12), ev.n_groups))
    for stop in stops:
        while stepped.position < stop:
            stepped.step()
        batched.apply_through(int(stop))
        assert batched.position == stepped.position == stop
        assert batched.book.same_state(stepped.book)
    assert batched.book.crossed_removals > 0  # the generator does produce crossed books
