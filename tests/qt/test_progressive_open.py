"""A big open is usable while it is indexed: first frame at once, seeks beyond wait or cancel."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
from test_worker import Harness

from reference_index import build_in_memory
from replayterm.core.book import indexer
from replayterm.core.data import open_sources
from replayterm.core.data.synthetic import generate_files
from replayterm.core.replay.cursor import ReplayCursor
from replayterm.core.replay.indexing import IndexJob
from replayterm.qt.worker import indexing as worker_indexing
from replayterm.qt.worker import opening as worker_opening


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    out = tmp_path_factory.mktemp("days")
    paths: list[str] = []
    for d in range(2):
        f = generate_files(
            out, seed=60 + d, target_book_rows=15_000, start=f"2024-05-0{d + 1}", compresslevel=1
        )
        paths += [str(f.book), str(f.trades)]
    return paths


@pytest.fixture
def slow_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small chunks and slow steps, so the test can act while indexing is under way."""

    def rechunked(*args: Any, **kwargs: Any) -> list[Any]:
        return [
            dataclasses.replace(s, table=pa.Table.from_batches(s.table.to_batches(max_chunksize=500)))
            for s in open_sources(*args, **kwargs)
        ]

    step = IndexJob.step

    def slow_step(self: IndexJob, max_rows: int | None = None) -> bool:
        time.sleep(0.02)
        return step(self, max_rows)

    monkeypatch.setattr(worker_opening, "open_sources", rechunked)
    monkeypatch.setattr(worker_indexing, "INDEX_STEP_ROWS", 500)
    monkeypatch.setattr(indexer, "STEP_ROWS", 500)
    monkeypatch.setattr(IndexJob, "step", slow_step)


@pytest.fixture
def harness(qtbot, slow_index: None) -> Iterator[Harness]:  # type: ignore[no-untyped-def]
    h = Harness(qtbot)
    yield h
    h.close()


def reference_for(paths: list[str]) -> ReplayCursor:
    return ReplayCursor(build_in_memory(open_sources(paths, use_cache=False), 0.2))


def test_first_frame_then_seek_inside_and_beyond_the_indexed_part(
    qtbot, harness: Harness, two_days: list[str]
) -> None:  # type: ignore[no-untyped-def]
    progress: list[tuple[float, int, int]] = []
    harness.worker.index_progress.connect(lambda f, r, w: progress.append((f, r, w)))
    info = harness.open(two_days)
    assert info.indexing
    assert len(info.days) == 1
    first = harness.frames[-1]
    assert first.bids.size
    assert first.asks.size
    qtbot.waitUntil(lambda: bool(progress) and progress[-1][1] > info.start_ts, timeout=20_000)
    fraction, ready, _ = progress[-1]
    assert 0 < fraction < 1
    assert ready < info.end_ts
    reference = reference_for(two_days)

    inside = harness.next_frame(harness.cmd.seek, ready - 1)  # at once, no waiting
    assert inside.local_ts == ready - 1
    reference.seek(ready - 1)
    assert inside.events_applied == reference.position

    with qtbot.waitSignal(
        harness.worker.frame_ready, timeout=60_000, check_params_cb=lambda f: f.local_ts == info.end_ts
    ) as blocker:
        harness.cmd.seek.emit(info.end_ts)
    assert any(w == info.end_ts for _, _, w in progress)  # the seek was shown as waiting
    end = blocker.args[0]
    reference.seek(info.end_ts)
    assert end.events_applied == reference.position
    assert end.at_end
    book = reference.instruments[0].book
    assert book is not None
    assert end.bids[:, 0].tolist() == book.book.levels(1, 200)[:, 0].tolist()
    qtbot.waitUntil(lambda: progress[-1][0] == 1.0, timeout=20_000)


def test_cancel_drops_a_waiting_seek_then_stops_indexing(
    qtbot, harness: Harness, two_days: list[str]
) -> None:  # type: ignore[no-untyped-def]
    progress: list[tuple[float, int, int]] = []
    harness.worker.index_progress.connect(lambda f, r, w: progress.append((f, r, w)))
    info = harness.open(two_days)
    assert info.indexing
    with qtbot.waitSignal(harness.worker.index_progress, check_params_cb=lambda f, r, w: w == info.end_ts):
        harness.cmd.seek.emit(info.end_ts)
    frames = len(harness.frames)
    harness.worker.request_cancel()
    qtbot.waitUntil(lambda: progress[-1][2] == -1, timeout=20_000)  # no longer waiting
    assert progress[-1][0] < 1.0
    assert all(f.local_ts != info.end_ts for f in harness.frames[frames:])
    harness.worker.request_cancel()  # nothing waits now: indexing stops, the indexed part stays
    qtbot.waitUntil(lambda: progress[-1][0] < 0, timeout=20_000)
    ready = progress[-1][1]
    frame = harness.next_frame(harness.cmd.seek, info.end_ts)
    assert frame.local_ts <= ready
