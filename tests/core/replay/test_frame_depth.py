"""Frames carry enough depth for the coarsest price grouping, not just the top N levels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from replayterm.core.data.model import Kind, Source
from replayterm.core.frames.builder import FrameBuilder
from replayterm.core.replay.cursor import ReplayCursor
from replayterm.core.replay.instruments import build_instruments

TICK = 0.5
LEVELS = 3000  # per side, one every tick: far more than a frame's top 200
COARSEST = 100  # ticks per bucket, the ladder's and heatmap's coarsest grouping
ROWS = 20  # buckets each side of the touch the view shows


def _deep_book() -> Source:
    rng = np.random.default_rng(3)
    k = np.arange(LEVELS)
    price = np.concatenate([5000.0 - TICK * (k + 1), 5000.0 + TICK * (k + 1)])
    side = np.concatenate([np.ones(LEVELS), -np.ones(LEVELS)]).astype(np.int8)
    amount = rng.integers(1, 9, 2 * LEVELS).astype(np.float64)
    n = price.shape[0]
    table = pa.table(
        {
            "local_ts": pa.array(np.full(n, 1_000_000), pa.int64()),
            "exch_ts": pa.array(np.full(n, 1_000_000), pa.int64()),
            "side": pa.array(side, pa.int8()),
            "price": pa.array(price, pa.float64()),
            "amount": pa.array(amount, pa.float64()),
            "is_snapshot": pa.array(np.ones(n, dtype=bool)),
        }
    )
    return Source(Path("deep_book.csv"), Kind.BOOK, "test", "DEEP", table)


def _buckets(levels: np.ndarray, side: int) -> dict[int, float]:
    ticks = np.rint(levels[:, 0] / TICK).astype(np.int64)
    bucket = ticks // COARSEST if side > 0 else -(-ticks // COARSEST)
    out: dict[int, float] = {}
    for b, a in zip(bucket.tolist(), levels[:, 1].tolist(), strict=True):
        out[b] = out.get(b, 0.0) + a
    return out


def test_frames_cover_the_coarsest_grouping() -> None:
    (inst,) = build_instruments([_deep_book()])
    assert inst.book is not None
    cursor = ReplayCursor([inst])
    cursor.seek(2_000_000)
    builder = FrameBuilder(cursor, depth=200)
    builder.reach_ticks = COARSEST * ROWS
    frame = builder.frame(0, reset=True)
    book = inst.book.book
    for side, carried in ((1, frame.bids), (-1, frame.asks)):
        full = _buckets(book.levels(side, LEVELS), side)
        got = _buckets(carried, side)
        best = int(np.rint(carried[0, 0] / TICK))
        touch_bucket = best // COARSEST if side > 0 else -(-best // COARSEST)
        for r in range(ROWS):  # every bucket the view shows holds the book's full size
            b = touch_bucket - r if side > 0 else touch_bucket + r
            assert got.get(b) == full[b], (side, r)
        assert carried.shape[0] >= 200  # never less than the top levels
        order = np.diff(carried[:, 0])
        assert (order < 0).all() if side > 0 else (order > 0).all()  # best first
    # grouping 1 needs no more than the top levels
    builder.reach_ticks = 0
    frame = builder.frame(1, reset=True)
    assert frame.bids.shape[0] == frame.asks.shape[0] == 200
