"""The out-of-core index (chunk by chunk, stored and mapped) equals the in-memory one exactly."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from test_book_random import random_rows
from test_book_seek import straight_states

from replayterm.core.book import BookEvents, BookReplayer, Cancelled, build_checkpoints
from replayterm.core.book.indexer import BookColumns, BookIndexBuild, open_book_index

NAMES = ("local_ts", "exch_ts", "side", "price", "amount", "is_snapshot")


def chunked_table(cols: tuple[np.ndarray, ...], rng: np.random.Generator, max_chunk: int) -> pa.Table:
    n = cols[0].shape[0]
    cuts = np.sort(rng.choice(np.arange(1, n), size=min(n - 1, n // max(max_chunk // 2, 1)), replace=False))
    bounds = [0, *cuts.tolist(), n]
    batches = [
        pa.record_batch([pa.array(c[a:b]) for c in cols], names=list(NAMES))
        for a, b in itertools.pairwise(bounds)
        if b > a
    ]
    return pa.Table.from_batches(batches)


def build(cols: BookColumns, folder: Path | None, step_rows: int) -> tuple[BookEvents, object]:
    b = BookIndexBuild(cols, folder, checkpoint_rows=64)
    while not b.step(step_rows):
        # the part built so far is usable: groups ready, history recorded, checkpoints valid
        ready = b.ready.groups
        assert b.events.n_ready == ready
        if ready:
            rp = BookReplayer(b.events, b.checkpoints())
            rp.seek_group(ready)
            assert rp.position == ready
    return b.commit()


@pytest.mark.parametrize(
    ("seed", "full_each", "max_chunk", "step_rows"),
    [
        (1, False, 50, 1),
        (2, False, 333, 700),
        (3, True, 80, 200),
        (4, False, 5000, 10**6),
    ],
)
def test_chunked_index_equals_in_memory(
    tmp_path: Path, seed: int, full_each: bool, max_chunk: int, step_rows: int
) -> None:
    arrays = random_rows(seed, 3000, resnapshots=4)
    ref = BookEvents.from_arrays(*arrays, full_snapshot_each_message=full_each)
    ref_cps = build_checkpoints(ref, record_best=True)
    table = chunked_table(arrays, np.random.default_rng(seed), max_chunk)
    cols = BookColumns.from_tables([table], full_snapshot_each_message=full_each, label="rows")
    ev, cps = build(cols, tmp_path / "idx", step_rows)
    for name in ("key", "groups", "group_ts", "prices", "amount"):
        assert np.array_equal(np.asarray(getattr(ev, name)), getattr(ref, name)), name
    assert (ev.first_snapshot_row, ev.first_snapshot_group, ev.ts_backwards) == (
        ref.first_snapshot_row,
        ref.first_snapshot_group,
        ref.ts_backwards,
    )
    assert np.array_equal(ev.resnapshot_groups, ref.resnapshot_groups)
    assert ev.reset_list is not None
    assert np.array_equal(cps.best_idx, ref_cps.best_idx)
    assert np.array_equal(cps.best_amt, ref_cps.best_amt)
    assert np.array_equal(cps.crossed_groups, ref_cps.crossed_groups)
    assert len(cps) > 10
    assert np.all(np.diff(cps.position) > 0)
    # reopened from disk: mapped, identical, and seeks anywhere equal the straight replay
    reopened = open_book_index(cols, tmp_path / "idx")
    assert reopened is not None
    ev2, cps2 = reopened
    assert not ev2.key.flags.owndata
    assert not cps2.best_idx.flags.owndata
    states = straight_states(ref)
    rp = BookReplayer(ev2, cps2)
    rng = np.random.default_rng(seed)
    for g in [*rng.integers(0, ref.n_groups + 1, 60).tolist(), ref.n_groups, 0, ref.n_groups]:
        rp.seek_group(int(g))
        assert rp.book.same_state(states[int(g)]), g


def test_no_partial_index_after_cancel_or_failure(tmp_path: Path) -> None:
    arrays = random_rows(7, 2000, resnapshots=2)
    table = chunked_table(arrays, np.random.default_rng(7), 100)
    cols = BookColumns.from_tables([table], full_snapshot_each_message=False, label="rows")
    calls = iter([False, False, True])
    with pytest.raises(Cancelled):
        BookIndexBuild(cols, tmp_path / "idx", cancel=lambda: next(calls, True))
    assert list(tmp_path.iterdir()) == []
    b = BookIndexBuild(cols, tmp_path / "idx")
    b.step(300)
    assert any(tmp_path.iterdir())
    b.discard()
    assert list(tmp_path.iterdir()) == []


def corrupt_truncate(folder: Path) -> None:
    path = folder / "key.npy"
    path.write_bytes(path.read_bytes()[:-100])


def corrupt_version(folder: Path) -> None:
    m = json.loads((folder / "manifest.json").read_text())
    m["version"] = -1
    (folder / "manifest.json").write_text(json.dumps(m))


def corrupt_groups(folder: Path) -> None:
    arr = np.load(folder / "groups.npy", mmap_mode="r+")
    arr[0, -1] += 5
    arr.flush()


def corrupt_manifest(folder: Path) -> None:
    (folder / "manifest.json").write_text("{not json")


def corrupt_missing(folder: Path) -> None:
    (folder / "best_idx.npy").unlink()


@pytest.mark.parametrize(
    "damage", [corrupt_truncate, corrupt_version, corrupt_groups, corrupt_manifest, corrupt_missing]
)
def test_damaged_index_is_rebuilt_and_only_another_version_deleted(tmp_path: Path, damage: object) -> None:
    arrays = random_rows(9, 1500, resnapshots=2)
    table = chunked_table(arrays, np.random.default_rng(9), 200)
    cols = BookColumns.from_tables([table], full_snapshot_each_message=False, label="rows")
    folder = tmp_path / "idx"
    build(cols, folder, 10**6)
    assert open_book_index(cols, folder) is not None
    damage(folder)  # type: ignore[operator]
    assert open_book_index(cols, folder) is None
    # A reader never deletes what may be another process's fresh commit; only an index of
    # another format version (or other data) is removed. The rebuild replaces a damaged one.
    assert folder.exists() == (damage is not corrupt_version)
    ev, _ = build(cols, folder, 10**6)
    assert open_book_index(cols, folder) is not None
    assert ev.n_groups == BookEvents.from_arrays(*arrays).n_groups


def test_other_rows_do_not_reuse_an_index(tmp_path: Path) -> None:
    a = random_rows(11, 1000)
    cols = BookColumns.from_tables(
        [chunked_table(a, np.random.default_rng(1), 100)], full_snapshot_each_message=False, label="rows"
    )
    build(cols, tmp_path / "idx", 10**6)
    b = tuple(x[:900] for x in a)
    other = BookColumns.from_tables(
        [chunked_table(b, np.random.default_rng(1), 100)], full_snapshot_each_message=False, label="rows"
    )
    assert open_book_index(other, tmp_path / "idx") is None


def test_a_full_disk_is_a_clear_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    def no_space(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", no_space, raising=False)
    arrays = random_rows(12, 500)
    cols = BookColumns.from_tables(
        [chunked_table(arrays, np.random.default_rng(1), 100)], full_snapshot_each_message=False, label="rows"
    )
    with pytest.raises(OSError, match="no room for the replay index"):
        BookIndexBuild(cols, tmp_path / "idx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fold", [1, 7, 10**9])
def test_price_grid_folded_during_the_prepass_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fold: int
) -> None:
    """The pre-pass folds the chunks' distinct prices into the grid as it goes (bounded memory):
    the grid, the keys and the replay are those of the in-memory index, whatever the fold size."""
    from replayterm.core.book import indexer

    monkeypatch.setattr(indexer, "_FOLD_VALUES", fold)
    arrays = random_rows(5, 2000, resnapshots=2)
    ref = BookEvents.from_arrays(*arrays, full_snapshot_each_message=False)
    table = chunked_table(arrays, np.random.default_rng(5), 40)
    cols = BookColumns.from_tables([table], full_snapshot_each_message=False, label="rows")
    ev, _ = build(cols, tmp_path / "idx", 300)
    assert np.array_equal(np.asarray(ev.prices), ref.prices)
    assert np.array_equal(np.asarray(ev.prices), np.unique(arrays[3]))
    assert np.array_equal(np.asarray(ev.key), ref.key)
