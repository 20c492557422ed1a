"""A daily file boundary is not a data problem (issue 19, item 4): each day's file starts with a
snapshot, which is how daily files are cut, not a re-sync of the feed."""

from __future__ import annotations

from pathlib import Path

from replayterm.core.data import open_sources
from replayterm.core.data.synthetic import generate_files
from replayterm.core.replay.cursor import ReplayCursor
from replayterm.core.replay.frames import FrameBuilder
from replayterm.core.replay.instruments import build_instruments


def test_the_snapshot_that_starts_the_next_days_file_is_no_resnapshot(tmp_path: Path) -> None:
    files = []
    for i, day in enumerate(("2024-03-04", "2024-03-05")):
        g = generate_files(
            tmp_path / day, minutes=1, seed=5 + i, start=f"{day}T23:59:00Z" if i == 0 else f"{day}T00:00:00Z"
        )
        files += [g.book, g.trades]
    instruments = build_instruments(open_sources(files, use_cache=False))
    (inst,) = instruments
    assert inst.book is not None
    assert inst.book.events.resnapshot_groups.size == 1  # the book is cleared there...
    assert inst.resnapshot_groups.size == 0  # ...but that is the day's file starting
    cursor = ReplayCursor(instruments)
    assert cursor.gaps().size == 0  # no warning tick on the timeline
    cursor.seek(cursor.end_ts)
    frame = FrameBuilder(cursor, 0).frame(0, reset=True)
    assert frame.stats.resnapshots == 0
