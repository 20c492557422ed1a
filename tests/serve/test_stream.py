from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from replayterm.core.book import BookReplayer
from replayterm.core.replay.export import export_book_snapshots
from replayterm.core.replay.instruments import Instrument
from replayterm.serve import encode as enc
from replayterm.serve.catalog import Catalog
from replayterm.serve.options import parse_options
from replayterm.serve.stream import ReplayStream


def us(text: str) -> int:
    dt = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1_000_000 + dt.microsecond


def replay(catalog: Catalog, budget: int = 32_768, **options: object) -> list[dict]:
    opts = {"exchange": "synthetic", **options}
    stream = ReplayStream(parse_options(json.dumps(opts), catalog), budget)
    lines: list[str] = []
    while not stream.at_end:
        lines.extend(enc.ndjson(stream.next_chunk()).decode().splitlines())
    return [json.loads(line) for line in lines]


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.0, "1"), (0.1, "0.1"), (1e-5, "0.00001"), (1e-7, "1e-7"), (1.5e21, "1.5e+21"),
     (123456789012.0, "123456789012"),
     (1e16, "10000000000000000"), (-2.5, "-2.5"), (float("nan"), "null"), (63867.4, "63867.4")],
)  # fmt: skip
def test_numbers_print_as_javascript_does(value: float, text: str) -> None:
    assert enc.js_number(value) == text


def test_timestamps_render_with_microseconds() -> None:
    assert enc.iso_one(1721347020123456) == '"2024-07-18T23:57:00.123456Z"'
    assert enc.iso_one(951782400000001) == '"2000-02-29T00:00:00.000001Z"'


def test_trades_and_book_changes_cover_the_data_in_receive_time_order(catalog: Catalog) -> None:
    msgs = replay(catalog, dataTypes=["trade", "book_change"])
    market = catalog.find("synthetic", "SYNTHUSD")
    assert market is not None
    assert market.book is not None
    assert market.trades is not None
    ev = market.book.events
    changes = [m for m in msgs if m["type"] == "book_change"]
    trades = [m for m in msgs if m["type"] == "trade"]
    assert len(trades) == len(market.trades)
    assert len(changes) == ev.n_groups - ev.first_snapshot_group
    local = [us(m["localTimestamp"]) for m in msgs]
    assert local == sorted(local)
    assert changes[0]["isSnapshot"] is True
    assert {"id", "price", "amount", "side", "timestamp"} <= trades[0].keys()
    # Applying the book changes as a client would rebuilds the replayer's final book.
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    for m in changes:
        if m["isSnapshot"]:
            bids.clear()
            asks.clear()
        for side, book in (("bids", bids), ("asks", asks)):
            for level in m[side]:
                if level["amount"] == 0:
                    book.pop(level["price"], None)
                else:
                    book[level["price"]] = level["amount"]
    rep = BookReplayer(ev)
    rep.run_to_end()
    assert max(bids) == rep.book.best_bid()[0]  # type: ignore[index]
    assert min(asks) == rep.book.best_ask()[0]  # type: ignore[index]


def test_chunk_size_does_not_change_the_output(catalog: Catalog) -> None:
    types = ["trade", "book_change", "book_snapshot_3_100ms", "quote", "trade_bar_5ticks", "trade_bar_1s"]
    opts = {"dataTypes": types, "to": "2024-01-02T00:01:00Z"}
    assert replay(catalog, budget=97, **opts) == replay(catalog, budget=100_000, **opts)


def test_computed_snapshots_equal_the_export(catalog: Catalog, tmp_path: Path) -> None:
    market = catalog.find("synthetic", "SYNTHUSD")
    assert market is not None
    assert market.book is not None
    inst = Instrument("synthetic", "SYNTHUSD", book=market.book.replayer())
    out = tmp_path / "snap.csv"
    export_book_snapshots([inst], out, depth=5, interval_ms=250)
    with open(out, newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    msgs = [m for m in replay(catalog, dataTypes=["book_snapshot_5_250ms"]) if m["type"] == "book_snapshot"]
    assert len(msgs) == len(rows) > 100
    for m, row in zip(msgs, rows, strict=True):
        assert (us(m["timestamp"]), us(m["localTimestamp"])) == (int(row[2]), int(row[3]))
        cells = []
        for j in range(5):
            for side in ("asks", "bids"):
                level = m[side][j]
                cells += [f"{level['price']:g}", f"{level['amount']:g}"] if level else ["", ""]
        assert cells == [f"{float(c):g}" if c else "" for c in row[4:]]


def test_seek_starts_with_a_fresh_snapshot(catalog: Catalog) -> None:
    opts = {"exchange": "synthetic", "dataTypes": ["book_change", "trade", "book_snapshot_2_1s"]}
    stream = ReplayStream(parse_options(json.dumps(opts), catalog), 500)
    stream.next_chunk()
    t = us("2024-01-02T00:05:00.000000Z")
    stream.seek(t)
    msgs = [json.loads(x) for x in enc.ndjson(stream.next_chunk()).decode().splitlines()]
    first, snapshot = msgs[0], msgs[1]
    assert first["type"] == "book_change"
    assert first["isSnapshot"] is True
    assert us(first["localTimestamp"]) == t
    assert snapshot["type"] == "book_snapshot"
    assert us(snapshot["localTimestamp"]) == t
    assert all(us(m["localTimestamp"]) >= t for m in msgs)
    market = catalog.find("synthetic", "SYNTHUSD")
    assert market is not None
    assert market.book is not None
    rep = market.book.replayer()
    rep.seek(t - 1)
    best_bid = max(level["price"] for level in first["bids"])
    assert best_bid == rep.book.best_bid()[0]  # type: ignore[index]
    assert snapshot["bids"][0] == {"price": best_bid, "amount": rep.book.best_bid()[1]}  # type: ignore[index]


def test_tick_bars_add_up_the_trades(catalog: Catalog) -> None:
    msgs = replay(catalog, dataTypes=["trade", "trade_bar_10ticks"], to="2024-01-02T00:02:00Z")
    trades = [m for m in msgs if m["type"] == "trade"]
    bars = [m for m in msgs if m["type"] == "trade_bar"]
    assert len(bars) == len(trades) // 10
    first = trades[:10]
    assert bars[0]["trades"] == 10
    assert bars[0]["open"] == first[0]["price"]
    assert bars[0]["close"] == first[-1]["price"]
    assert bars[0]["high"] == max(t["price"] for t in first)
    assert np.isclose(bars[0]["volume"], sum(t["amount"] for t in first))
    assert bars[0]["localTimestamp"] == first[-1]["localTimestamp"]


def test_subscribe_and_unsubscribe(catalog: Catalog) -> None:
    opts = {"exchange": "synthetic", "dataTypes": ["trade"]}
    request = parse_options(json.dumps(opts), catalog)
    stream = ReplayStream(request, 1000)
    stream.next_chunk(us("2024-01-02T00:01:00.000000Z"))
    extra = parse_options(json.dumps({**opts, "dataTypes": ["book_change"]}), catalog).selections[0]
    stream.subscribe(extra)
    msgs = [json.loads(x) for x in enc.ndjson(stream.next_chunk()).decode().splitlines()]
    changes = [m for m in msgs if m["type"] == "book_change"]
    assert changes[0]["isSnapshot"] is True
    assert not any(m["isSnapshot"] for m in changes[1:])
    assert {m["type"] for m in msgs} == {"trade", "book_change"}
    stream.unsubscribe(None, ["trade"])
    msgs = [json.loads(x) for x in enc.ndjson(stream.next_chunk()).decode().splitlines()]
    assert msgs
    assert {m["type"] for m in msgs} == {"book_change"}


def test_snapshot_computations_restart_at_a_disconnect(catalog: Catalog) -> None:
    msgs = replay(catalog, dataTypes=["book_change", "book_snapshot_3_1s"], withDisconnectMessages=True)
    disconnects = [i for i, m in enumerate(msgs) if m["type"] == "disconnect"]
    assert disconnects
    for i in disconnects:
        snapshot_change, row = msgs[i + 1], msgs[i + 2]
        assert snapshot_change["type"] == "book_change"
        assert snapshot_change["isSnapshot"] is True
        # like tardis-node after a disconnect: a row right after the re-snapshot, not at the bucket end
        assert row["type"] == "book_snapshot"
        assert row["localTimestamp"] == snapshot_change["localTimestamp"]
        assert row["timestamp"] == snapshot_change["timestamp"]


def test_each_options_object_keeps_its_own_range(catalog: Catalog) -> None:
    opts = [
        {"exchange": "synthetic", "dataTypes": ["trade"], "from": "2024-01-02T00:01:00Z",
         "to": "2024-01-02T00:02:00Z"},
        {"exchange": "synthetic", "dataTypes": ["book_change"], "from": "2024-01-02T00:01:30Z",
         "to": "2024-01-02T00:01:40Z", "exactRange": True, "openingSnapshot": True},
    ]  # fmt: skip
    stream = ReplayStream(parse_options(json.dumps(opts), catalog), 300)
    lines: list[str] = []
    while not stream.at_end:
        lines.extend(enc.ndjson(stream.next_chunk()).decode().splitlines())
    msgs = [json.loads(x) for x in lines]
    trades = [m["localTimestamp"] for m in msgs if m["type"] == "trade"]
    changes = [m for m in msgs if m["type"] == "book_change"]
    assert trades[0] >= "2024-01-02T00:01:00"
    assert trades[-1] < "2024-01-02T00:02:00"
    assert changes[0]["isSnapshot"] is True
    assert changes[0]["localTimestamp"] == "2024-01-02T00:01:30.000000Z"
    assert changes[-1]["localTimestamp"] < "2024-01-02T00:01:40"
    local = [m["localTimestamp"] for m in msgs]
    assert local == sorted(local)
