"""Raw recordings (issue 22): the collector capture, cryptofeed recordings and a tardis-dev cache
built from the capture open like files, their books equal the CSV path's, clean captures raise
no sequence alarm and every injected fault is a gap whose re-sync rebuilds the right book."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import raw_faults as faults

from replayterm.core.data import open_sources
from replayterm.core.data.sources.raw import detect, open_raw
from replayterm.core.replay.instruments import build_instruments

pytestmark = pytest.mark.realdata


def _capture(shared: Path) -> Path:
    return shared / faults.CAPTURE


def _book(sources: list) -> object:
    (inst,) = build_instruments([s for s in sources if s.is_book])
    return inst


def _levels(inst: object, ts: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    book = inst.book  # type: ignore[attr-defined]
    if ts is None:
        book.run_to_end()
    else:
        book.seek(ts)
    return book.book.levels(1, 10**6), book.book.levels(-1, 10**6)


def test_collector_books_equal_the_csv_path_after_every_message(shared_data: Path) -> None:
    d = shared_data / "binance-futures"
    raw = open_sources([d / "raw/btcusdt_20240718.gz", d / "raw/btcusdt_20240719.gz"])
    csv = open_sources(
        [d / f"binance-futures_incremental_book_L2_2024-07-{day}_BTCUSDT.csv.gz" for day in (18, 19)]
    )
    a, b = _book(raw), _book(csv)
    ta, tb = np.asarray(a.book.events.group_ts), np.asarray(b.book.events.group_ts)
    assert np.array_equal(ta, tb)  # one message group per L2 message, at the same receive times
    for t in ta[:: max(1, len(ta) // 400)]:
        la, lb = _levels(a, int(t)), _levels(b, int(t))
        assert np.array_equal(la[0], lb[0]), t
        assert np.array_equal(la[1], lb[1]), t
    bids, asks = _levels(a)
    assert (len(bids), len(asks)) == (5276, 5156)  # the README's final book
    assert bids[0][0] == 63867.4
    assert asks[0][0] == 63867.5
    assert all(s.gaps == [] for s in raw)  # the capture has no gap, across midnight included
    kinds = {s.kind.value: s.rows for s in raw}
    assert kinds["trades"] == 974 + 9727
    assert kinds["book_ticker"] == 7113 + 45147


def test_cryptofeed_recordings_open_with_no_false_alarm(shared_data: Path) -> None:
    for name, exchanges, symbols in (
        ("BINANCE_FUTURES.jsonl.zst", {"binance-futures"}, 4),
        ("BYBIT.jsonl.zst", {"bybit", "bybit-spot"}, 6),
    ):
        path = shared_data / "cryptofeed" / name
        assert detect(path) == "cryptofeed"
        rec = open_raw([path])
        books = [s for s in rec.sources if s.is_book]
        assert {s.exchange for s in books} == exchanges
        assert len(books) == symbols
        assert rec.gaps == []  # clean recordings: zero false alarms
        instruments = build_instruments(rec.sources)
        for inst in instruments:
            if inst.book is not None:
                inst.book.run_to_end()
                bid, ask = inst.book.book.best_bid(), inst.book.book.best_ask()
                assert bid is not None, inst.name
                assert ask is not None, inst.name
                assert bid[0] < ask[0], inst.name


def _tardis_cache(root: Path, capture: Path) -> Path:
    """A tardis-dev cache built from the capture: per-minute ``.json.gz`` slices of ISO-stamped
    messages, the REST snapshot as tardis's generated ``depthSnapshot`` message."""
    minutes: dict[str, list[bytes]] = {}
    for line in faults.read_lines(capture):
        ns, _, body = line.partition(b" ")
        msg = json.loads(body)
        if "lastUpdateId" in msg:
            msg = {"stream": "btcusdt@depthSnapshot", "generated": True, "data": msg}
        t = datetime.fromtimestamp(int(ns) / 1e9, tz=UTC)
        iso = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ns) % 10**9 // 1000:06d}Z"
        key = t.strftime("%Y/%m/%d/%H/%M")
        minutes.setdefault(key, []).append(iso.encode() + b" " + json.dumps(msg).encode())
    base = root / "feeds" / "binance-futures" / "f1a2b3c4"
    for key, lines in minutes.items():
        out = base / f"{key}.json.gz"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    return root


def test_tardis_cache_folder_equals_the_collector_capture(shared_data: Path, tmp_path: Path) -> None:
    capture = _capture(shared_data)
    cache = _tardis_cache(tmp_path / "tardis-cache", capture)
    assert detect(cache) == "tardis-cache"
    from_cache = open_sources([cache])
    from_capture = open_sources([capture])
    assert {(s.exchange, s.symbol, s.kind) for s in from_cache} == {
        (s.exchange, s.symbol, s.kind) for s in from_capture
    }
    a, b = _book(from_cache), _book(from_capture)
    assert np.array_equal(np.asarray(a.book.events.group_ts), np.asarray(b.book.events.group_ts))
    la, lb = _levels(a), _levels(b)
    assert np.array_equal(la[0], lb[0])
    assert np.array_equal(la[1], lb[1])


# -- faults --------------------------------------------------------------------------------


def _ts_of(line: bytes) -> int:
    return int(line.partition(b" ")[0]) // 1000


def _open(tmp_path: Path, lines: list[bytes], name: str = "fault.gz") -> object:
    return open_raw([faults.write_lines(tmp_path / name, lines)])


@pytest.mark.parametrize("fault", ["dropped", "duplicated", "reordered", "truncated"])
def test_every_injected_fault_is_found_where_it_is(shared_data: Path, tmp_path: Path, fault: str) -> None:
    lines = faults.read_lines(_capture(shared_data))
    bad, at = getattr(faults, fault)(lines)
    rec = _open(tmp_path, bad)
    if fault == "duplicated":
        # A copy of a message already applied is dropped: the book stays in sequence.
        assert rec.gaps == []
        (book,) = [s for s in rec.sources if s.is_book]
        assert any("older than the book were dropped" in w for w in book.warnings)
        return
    assert len(rec.gaps) == 1, rec.gaps
    gap = rec.gaps[0]
    # The gap is seen at the first message after the damage (or at it, when reordered).
    assert _ts_of(lines[at]) <= gap.start_ts <= _ts_of(lines[at + 2])
    assert gap.end_ts is None
    assert "not recovered" in gap.recovery
    if fault == "truncated":
        assert any("could not be read" in w and "line" in w for w in rec.sources[0].warnings)


def test_old_and_missing_snapshots_are_gaps(shared_data: Path, tmp_path: Path) -> None:
    lines = faults.read_lines(_capture(shared_data))
    old = _open(tmp_path, faults.old_snapshot(lines)[0], "old.gz")
    assert len(old.gaps) == 1
    assert "older than the stream" in old.gaps[0].reason
    missing = _open(tmp_path, faults.no_snapshot(lines)[0], "missing.gz")
    assert len(missing.gaps) == 1
    assert "no depth snapshot" in missing.gaps[0].reason


def _snapshot_at(tmp_path: Path, lines: list[bytes], at: int) -> dict:
    """The clean book after line ``at`` as a REST depth snapshot."""
    rec = _open(tmp_path, lines[: at + 1], "head.gz")
    inst = _book(rec.sources)
    bids, asks = _levels(inst)
    last = json.loads(lines[max(i for i in faults._depth_indices(lines) if i <= at)].partition(b" ")[2])[
        "data"
    ]
    return {
        "lastUpdateId": last["u"],
        "E": last["E"],
        "T": last["T"],
        "bids": [[repr(float(p)), repr(float(a))] for p, a in bids],
        "asks": [[repr(float(p)), repr(float(a))] for p, a in asks],
    }


@pytest.mark.parametrize("fault", ["dropped", "reordered", "truncated"])
def test_a_snapshot_re_syncs_the_book_to_a_straight_rebuild(
    shared_data: Path, tmp_path: Path, fault: str
) -> None:
    lines = faults.read_lines(_capture(shared_data))
    bad, _ = getattr(faults, fault)(lines)
    resync_at = faults.depth_after_snapshot(bad, 400)
    # The clean recording's line that is the same message as bad[resync_at]
    clean_at = lines.index(bad[resync_at])
    snapshot = _snapshot_at(tmp_path, lines, clean_at)
    rec = _open(tmp_path, faults.with_resync(bad, resync_at, snapshot))
    assert len(rec.gaps) == 1
    gap = rec.gaps[0]
    assert gap.end_ts == _ts_of(bad[resync_at]) + 0  # re-synced by the inserted snapshot
    assert "re-synced by a REST depth snapshot" in gap.recovery
    assert gap.duration_us() is not None
    assert gap.duration_us() > 0
    # A straight rebuild from the re-sync snapshot: the snapshot, then the clean updates after it.
    straight = _open(tmp_path, _from_snapshot(lines, clean_at, snapshot), "straight.gz")
    got, want = _levels(_book(rec.sources)), _levels(_book(straight.sources))
    assert np.array_equal(got[0], want[0])
    assert np.array_equal(got[1], want[1])
    clean = _levels(_book(_open(tmp_path, lines, "clean.gz").sources))
    assert np.array_equal(got[0], clean[0])
    assert np.array_equal(got[1], clean[1])


def _from_snapshot(lines: list[bytes], at: int, snapshot: dict) -> list[bytes]:
    ns = int(lines[at].partition(b" ")[0]) + 1
    return [str(ns).encode() + b" " + json.dumps(snapshot).encode(), *lines[at + 1 :]]


def test_the_server_disconnect_says_where_the_sequence_broke(shared_data: Path, tmp_path: Path) -> None:
    """A re-sync after a sequence gap reaches ``withDisconnectMessages`` clients: dated by the last
    message in sequence, with the reason in ``sequenceGap``."""
    from replayterm.serve import encode as enc
    from replayterm.serve.catalog import Catalog
    from replayterm.serve.options import parse_options
    from replayterm.serve.stream import ReplayStream

    lines = faults.read_lines(_capture(shared_data))
    bad, at = faults.dropped(lines)
    resync_at = faults.depth_after_snapshot(bad, 400)
    snapshot = _snapshot_at(tmp_path, lines, lines.index(bad[resync_at]))
    path = faults.write_lines(tmp_path / "served.gz", faults.with_resync(bad, resync_at, snapshot))
    catalog = Catalog.open([str(path)])
    opts = {"exchange": "binance-futures", "symbols": ["BTCUSDT"], "dataTypes": ["disconnect"]}
    stream = ReplayStream(parse_options(json.dumps({**opts, "withDisconnectMessages": True}), catalog))
    out: list[str] = []
    while not stream.at_end:
        out.extend(enc.ndjson(stream.next_chunk()).decode().splitlines())
    messages = [json.loads(m) for m in out]
    disconnects = [m for m in messages if m.get("type") == "disconnect"]
    assert len(disconnects) == 1
    d = disconnects[0]
    assert "is not the previous update's u" in d["sequenceGap"]
    assert "re-synced by a REST depth snapshot" in d["sequenceGap"]
    last_good = _ts_of(bad[max(i for i in faults._depth_indices(bad) if i < at)])
    assert d["localTimestamp"] == datetime.fromtimestamp(last_good / 1e6, tz=UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ"
    )


def test_convert_to_tardis_csv_gives_tardis_files_with_the_same_books(
    shared_data: Path, tmp_path: Path
) -> None:
    from replayterm.cli import main

    d = shared_data / "binance-futures"
    raw = [d / "raw/btcusdt_20240718.gz", d / "raw/btcusdt_20240719.gz"]
    out = tmp_path / "csv"
    assert main(["convert", "--format", "tardis-csv", "--out", str(out), *map(str, raw)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"binance-futures_{t}_2024-07-{day}_BTCUSDT.csv.gz"
        for t in ("incremental_book_L2", "trades", "book_ticker")
        for day in (18, 19)
    )
    with gzip.open(out / names[0], "rt") as f:
        assert (
            f.readline().strip()
            == "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount"
        )
    for day in (18, 19):  # each day replays alone, opening with the whole book, like Tardis's files
        ours = open_sources([out / f"binance-futures_incremental_book_L2_2024-07-{day}_BTCUSDT.csv.gz"])
        theirs = open_sources([d / f"binance-futures_incremental_book_L2_2024-07-{day}_BTCUSDT.csv.gz"])
        a, b = _book(ours), _book(theirs)
        assert np.array_equal(np.asarray(a.book.events.group_ts), np.asarray(b.book.events.group_ts))
        la, lb = _levels(a), _levels(b)
        assert np.array_equal(la[0], lb[0])
        assert np.array_equal(la[1], lb[1])
    trades = open_sources([out / "binance-futures_trades_2024-07-19_BTCUSDT.csv.gz"])[0]
    ref = open_sources([d / "binance-futures_trades_2024-07-19_BTCUSDT.csv.gz"])[0]
    for col in ("local_ts", "exch_ts", "side", "price", "amount"):
        assert np.array_equal(trades.column(col), ref.column(col)), col
