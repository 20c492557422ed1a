from __future__ import annotations

import numpy as np
import pytest
from replay_sources import book_source, trade_source

from replayterm.core.frames.builder import FrameBuilder
from replayterm.core.frames.streams import TopOfBook
from replayterm.core.replay.cursor import ReplayCursor
from replayterm.core.replay.instruments import build_instruments


@pytest.fixture
def cursor() -> ReplayCursor:
    rng = np.random.default_rng(5)
    book = book_source(rng, 400, "AAA")
    trades = trade_source(rng, 150, 1_000_000, 1_900_000, "AAA")
    (inst,) = build_instruments([book, trades])
    assert inst.book is not None
    inst.book.build_checkpoints(min_interval_rows=50, record_best=True)
    return ReplayCursor([inst])


def _top(cursor: ReplayCursor) -> tuple[float, float]:
    book = cursor.instruments[0].book
    assert book is not None
    bid, ask = book.book.best_bid(), book.book.best_ask()
    return (bid[0] if bid else np.nan), (ask[0] if ask else np.nan)


def test_frames_carry_the_book_and_every_trade_once(cursor: ReplayCursor) -> None:
    fb = FrameBuilder(cursor, depth=5)
    cursor.seek(cursor.start_ts)
    seen: list[np.ndarray] = [fb.frame(0, reset=True).trades.local_ts]
    ts = cursor.timeline.ts
    for stop in np.linspace(0, len(ts) - 1, 9).astype(int)[1:]:
        cursor.advance_to(int(ts[stop]))
        frame = fb.frame(0, reset=False)
        seen.append(frame.trades.local_ts)
        assert frame.bids.shape[0] <= 5
        assert frame.asks.shape[0] <= 5
        assert (frame.stats.best_bid, frame.stats.best_ask) == pytest.approx(_top(cursor), nan_ok=True)
        assert frame.series.local_ts[-1] <= frame.local_ts
    trades = cursor.instruments[0].trades
    assert trades is not None
    assert np.concatenate(seen).tolist() == trades.local_ts[: cursor.trades_applied(0)].tolist()


def test_series_is_sampled_back_from_the_current_message(cursor: ReplayCursor) -> None:
    fb = FrameBuilder(cursor)
    cursor.seek(cursor.start_ts)
    fb.frame(0, reset=True)
    cursor.advance_to(cursor.end_ts)
    book = cursor.instruments[0].book
    assert book is not None
    (top,) = [s for s in fb.streams if isinstance(s, TopOfBook)]
    series = top.series(0, book.position, 7)
    step = book.position // 7
    assert len(series) == len(range(book.position - 1, -1, -step))
    assert series.local_ts[-1] == book.events.group_ts[book.position - 1]  # ends at the current state
    assert np.all(np.diff(series.local_ts) > 0)
    assert (series.best_bid[-1], series.best_ask[-1]) == pytest.approx(_top(cursor), nan_ok=True)


def test_resnapshots_count_those_applied_so_far() -> None:
    rng = np.random.default_rng(6)
    (inst,) = build_instruments([book_source(rng, 400, "AAA", resnapshot_at=200)])
    assert inst.book is not None
    (resnap_ts,) = inst.book.events.resnapshot_ts.tolist()
    cursor = ReplayCursor([inst])
    fb = FrameBuilder(cursor)
    cursor.seek(resnap_ts - 1)
    assert fb.frame(0, reset=True).stats.resnapshots == 0
    cursor.seek(resnap_ts)
    assert fb.frame(1, reset=True).stats.resnapshots == 1
    cursor.seek(cursor.start_ts)
    assert fb.frame(2, reset=True).stats.resnapshots == 0
