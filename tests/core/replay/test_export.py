from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from replay_sources import book_source

from replayterm.cli import main
from replayterm.core.book import BookReplayer
from replayterm.core.replay.export import export_book_snapshots, snapshot_header
from replayterm.core.replay.instruments import Instrument, build_instruments

SAMPLE_L2 = sorted((Path(__file__).resolve().parents[3] / "data").glob("*incremental_book_L2*.csv.gz"))


@pytest.fixture
def instrument() -> Instrument:
    (inst,) = build_instruments([book_source(np.random.default_rng(4), 400, "AAA", resnapshot_at=200)])
    return inst


def expected_row(replayer: BookReplayer, depth: int) -> list[str]:
    book = replayer.book
    asks, bids = book.levels(-1, depth), book.levels(1, depth)
    cells: list[str] = []
    for j in range(depth):
        for levels in (asks, bids):
            cells += [f"{levels[j, 0]:g}", f"{levels[j, 1]:g}"] if j < len(levels) else ["", ""]
    return cells


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def test_interval_zero_writes_a_row_after_each_message_that_changed_the_top(
    instrument: Instrument, tmp_path: Path
) -> None:
    depth = 3
    out = tmp_path / "snap.csv"
    result = export_book_snapshots([instrument], out, depth=depth, interval_ms=0, axis="local")
    header, rows = read_rows(out)
    assert header == snapshot_header(depth)
    assert len(rows) == result.rows
    reference = BookReplayer(instrument.book.events)  # type: ignore[union-attr]
    expected: list[list[str]] = []
    previous: list[str] | None = None
    while reference.step() >= 0:
        cells = expected_row(reference, depth)
        if cells != previous:
            ev = reference.events
            last = int(ev.group_start[reference.position]) - 1
            expected.append(["test", "AAA", str(ev.exch_ts[last]), str(ev.local_ts[last]), *cells])
            previous = cells
    assert rows == expected


def test_interval_rows_show_the_book_at_each_bucket_end(instrument: Instrument, tmp_path: Path) -> None:
    out = tmp_path / "snap.csv.gz"
    export_book_snapshots([instrument], out, depth=2, interval_ms=10, axis="local")
    _, rows = read_rows(out)
    times = [int(r[3]) for r in rows]
    buckets = [t // 10_000 for t in times]
    assert buckets == sorted(set(buckets))  # at most one row per 10 ms bucket
    reference = BookReplayer(instrument.book.events)  # type: ignore[union-attr]
    for row in rows[:: max(1, len(rows) // 20)]:
        reference.seek(int(row[3]))
        assert row[4:] == expected_row(reference, 2)


def test_from_to_limit_the_rows(instrument: Instrument, tmp_path: Path) -> None:
    ts = instrument.book.events.group_ts  # type: ignore[union-attr]
    lo, hi = int(ts[100]), int(ts[300])
    out = tmp_path / "snap.csv"
    export_book_snapshots([instrument], out, depth=1, interval_ms=0, from_ts=lo, to_ts=hi)
    _, rows = read_rows(out)
    assert rows
    assert all(lo <= int(r[3]) < hi for r in rows)


@pytest.mark.skipif(not SAMPLE_L2, reason="bundled sample missing")
def test_cli_export_and_book_on_the_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "snap.csv"
    args = ["export", str(SAMPLE_L2[0]), "--book-snapshot", "5", "--interval", "1000", "--axis", "local"]
    assert main([*args, "--to", "2024-01-02T00:01:00Z", "--out", str(out)]) == 0
    header, rows = read_rows(out)
    assert header[:8] == snapshot_header(5)[:8]
    assert 50 <= len(rows) <= 61
    last = rows[-1]
    capsys.readouterr()
    assert main(["book", str(SAMPLE_L2[0]), "--at", last[3], "--depth", "5", "--json"]) == 0
    book = json.loads(capsys.readouterr().out)
    assert [f"{p:g}" for p, _ in book["asks"]] == last[4::4]
    assert [f"{p:g}" for p, _ in book["bids"]] == last[6::4]


def test_cli_reports_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("nothing,here\n1,2\n")
    assert (
        main(
            ["export", str(bad), "--book-snapshot", "5", "--interval", "0", "--out", str(tmp_path / "o.csv")]
        )
        == 1
    )
    assert "bad.csv" in capsys.readouterr().err
    assert main(["book", str(bad), "--at", "not a time"]) == 2


def tardis_rows(instrument: Instrument, depth: int, interval_ms: int) -> list[list[str]]:
    """tardis-node's computeBookSnapshots, written out step by step over a plain replay."""
    events = instrument.book.events  # type: ignore[union-attr]
    reference = BookReplayer(events)
    interval = interval_ms * 1000
    changed = initialized = False
    last_ts = -1
    held: list[str] | None = None
    rows: list[list[str]] = []
    for g in range(events.n_groups):
        exch = int(events.exch_ts[events.group_start[g + 1] - 1])
        local = str(events.local_ts[events.group_start[g]])
        if changed and initialized and interval and exch // interval > last_ts // interval:
            assert held is not None
            rows.append(["test", "AAA", str((last_ts // interval + 1) * interval), local, *held])
            changed = False
        reference.step()
        top = expected_row(reference, depth)
        if top != held:
            held, changed = top, True
        last_ts = exch
        if changed and (interval == 0 or not initialized):
            rows.append(["test", "AAA", str(exch), local, *top])
            changed, initialized = False, True
    return rows


@pytest.mark.parametrize("interval_ms", [0, 1, 10, 100])
def test_exchange_axis_follows_tardis_machine(
    instrument: Instrument, tmp_path: Path, interval_ms: int
) -> None:
    out = tmp_path / "snap.csv"
    export_book_snapshots([instrument], out, depth=3, interval_ms=interval_ms)
    _, rows = read_rows(out)
    expected = tardis_rows(instrument, 3, interval_ms)
    assert len(expected) > 5
    assert rows == expected


def test_exchange_axis_repeats_a_row_when_the_top_changed_and_changed_back(
    instrument: Instrument, tmp_path: Path
) -> None:
    out = tmp_path / "snap.csv"
    export_book_snapshots([instrument], out, depth=1, interval_ms=50)
    _, rows = read_rows(out)
    assert rows == tardis_rows(instrument, 1, 50)
    # Rows are bucket ends, and the first row follows the opening snapshot.
    events = instrument.book.events  # type: ignore[union-attr]
    first = events.first_snapshot_group
    assert rows[0][3] == str(events.local_ts[events.group_start[first]])
    assert all(int(r[2]) % 50_000 == 0 for r in rows[1:])
