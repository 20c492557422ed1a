"""Several daily files of one symbol replay as one continuous timeline, indexed out of core."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from reference_index import build_in_memory
from replayterm.core.book import BookReplayer, Cancelled
from replayterm.core.data import open_sources
from replayterm.core.data.cache import cache_dir
from replayterm.core.data.model import Source
from replayterm.core.data.synthetic import generate_files
from replayterm.core.replay.cursor import ReplayCursor
from replayterm.core.replay.instruments import build_instruments

DAYS = 3


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("days")
    paths: list[Path] = []
    for d in range(DAYS):
        files = generate_files(
            out, seed=40 + d, target_book_rows=12_000, start=f"2024-03-0{d + 1}T00:00:00Z", compresslevel=1
        )
        paths += [files.book, files.trades]
    return paths


def rechunked(sources: list[Source], rows: int) -> list[Source]:
    """The same rows in many small chunks, as a large cache file holds them."""
    return [
        dataclasses.replace(s, table=pa.Table.from_batches(s.table.to_batches(max_chunksize=rows)))
        for s in sources
    ]


def test_days_are_one_timeline_equal_to_a_straight_replay(week: list[Path]) -> None:
    sources = rechunked(open_sources(week), 1000)
    stored = build_instruments(sources)
    assert stored.job is None
    assert len(stored) == 1
    in_memory = build_in_memory(sources, 0.2)
    a, b = ReplayCursor(stored), ReplayCursor(in_memory)
    assert np.array_equal(np.asarray(a.timeline.ts), b.timeline.ts)
    assert np.array_equal(np.asarray(a.timeline.stream), b.timeline.stream)
    starts = a.file_starts()
    assert len(starts) == DAYS - 1
    ev = stored[0].book.events
    assert ev.n_rows == sum(s.rows for s in sources if s.is_book)

    # seeks anywhere, around every day boundary and to the very end equal a straight replay
    straight = BookReplayer(in_memory[0].book.events)
    rng = np.random.default_rng(3)
    targets = [int(t) for t in rng.integers(a.start_ts, a.end_ts, 40)]
    for s in starts:
        targets += [int(s) - 1, int(s), int(s) + 1, int(s) + 50_000]
    targets += [a.end_ts, a.start_ts, a.end_ts]
    for t in targets:
        a.seek(t)
        straight.seek_group(0)
        straight.apply_until(t)
        assert a.instruments[0].book.book.same_state(straight.book), t
        assert a.trades_applied(0) == in_memory[0].trades.count_through(t)

    # each day's opening snapshot clears and rebuilds: right after it the book is that of the day
    # alone, and no message around the boundary leaves a side empty (nothing flickers)
    best = stored[0].book.checkpoints.best_idx
    book_sources = [s for s in sources if s.is_book]
    for day, s in zip(book_sources[1:], starts, strict=True):
        g = ev.groups_through(int(s) - 1)
        assert np.all(best[max(g - 20, 0) : g + 20] >= 0)
        alone = build_in_memory([day], 0.2)[0].book
        assert alone is not None
        alone.step()
        whole = BookReplayer(ev, stored[0].book.checkpoints)
        whole.seek_group(g + 1)
        np.testing.assert_array_equal(whole.book.levels(1, 1000), alone.book.levels(1, 1000))
        np.testing.assert_array_equal(whole.book.levels(-1, 1000), alone.book.levels(-1, 1000))


def test_reopen_maps_the_stored_set_index(week: list[Path]) -> None:
    sources = open_sources(week)
    first = build_instruments(sources)
    sets = cache_dir() / "sets"
    assert sets.is_dir()
    assert len(list(sets.iterdir())) >= 1
    again = build_instruments(open_sources(week))
    e1, e2 = first[0].book.events, again[0].book.events
    assert not e2.groups.flags.owndata  # mapped from the stored index
    assert np.array_equal(e1.groups, e2.groups)
    assert not np.asarray(ReplayCursor(again).timeline.ts).flags.owndata


def test_cancel_mid_index_leaves_no_partial_files(week: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from replayterm.core.book import indexer

    monkeypatch.setattr(indexer, "STEP_ROWS", 2000)
    sources = rechunked(open_sources(week), 500)
    seen: list[float] = []

    def cancel() -> bool:  # mid-index: after the pre-pass (the first fifth of the progress)
        return any(f > 0.3 for f in seen)

    with pytest.raises(Cancelled):
        build_instruments(sources, progress=lambda f, _m: seen.append(f), cancel=cancel)
    assert 0.3 < seen[-1] < 1
    leftovers = [p for p in cache_dir().rglob("*") if p.is_file() and p.suffix in (".npy", ".raw", ".json")]
    assert [p for p in leftovers if p.suffix != ".json"] == []
    assert not any("manifest" in p.name for p in leftovers)
    # and the next open builds it completely
    done = build_instruments(sources)
    assert done[0].book.events.n_ready == done[0].book.events.n_groups


def test_progressive_open_replays_the_indexed_part(week: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from replayterm.core.book import indexer

    monkeypatch.setattr(indexer, "STEP_ROWS", 3000)
    sources = rechunked(open_sources(week), 1000)
    part = build_instruments(sources, progressive=True)
    job = part.job  # type: ignore[attr-defined]
    assert job is not None
    assert 0 < job.fraction < 1
    cursor = ReplayCursor(part)
    reference = ReplayCursor(build_in_memory(sources, 0.2))
    ready = cursor.ready_ts
    assert cursor.start_ts <= ready < cursor.end_ts
    cursor.seek(cursor.end_ts)  # beyond the indexed part: stops at its edge
    assert cursor.now == ready
    assert cursor.at_ready_end
    reference.seek(ready)
    assert cursor.position == reference.position
    assert cursor.instruments[0].book.book.same_state(reference.instruments[0].book.book)
    while not job.step():
        assert cursor.ready_ts >= ready
        ready = cursor.ready_ts
    assert cursor.timeline.complete
    for t in (cursor.end_ts, cursor.start_ts + 1, (cursor.start_ts + cursor.end_ts) // 2):
        cursor.seek(t)
        reference.seek(t)
        assert cursor.position == reference.position
        assert cursor.instruments[0].book.book.same_state(reference.instruments[0].book.book)


def test_without_the_cache_the_index_lives_in_a_temporary_folder(week: list[Path]) -> None:
    import gc

    sources = open_sources(week[:2], use_cache=False)
    instruments = build_instruments(sources)
    groups = instruments[0].book.events.groups
    base = groups
    while not hasattr(base, "filename") and getattr(base, "base", None) is not None:
        base = base.base
    folder = Path(base.filename).parent.parent  # scratch/.tmp-book-…/groups.npy, since renamed
    assert folder.is_dir()
    assert folder.name.startswith("replayterm-index-")
    assert not folder.is_relative_to(cache_dir())
    assert (folder / "book" / "manifest.json").is_file()
    assert not (cache_dir() / "sets").exists()
    del instruments, groups, base
    gc.collect()
    assert not folder.exists()
