"""LOBSTER: the rebuilt top 10 equals the shared book file after every message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from replayterm.core.book.l3 import L3Book, L3Events
from replayterm.core.data.mbo.lobster import book_file_of, read_lobster
from replayterm.core.data.mbo.records import F_LAST, SEED
from replayterm.core.data.open import open_sources
from replayterm.core.errors import DataError
from replayterm.core.replay.instruments import build_instruments

NAME = "AAPL_2012-06-21_34200000_57600000_message_10.csv"
EMPTY = 9999999999


@pytest.fixture
def message_file(shared_data: Path) -> Path:
    path = shared_data / "mbo" / NAME
    if not path.exists():
        pytest.skip("LOBSTER sample absent")
    return path


def _top(book: L3Book, depth: int) -> list[int]:
    asks, bids = book.levels(-1, depth), book.levels(1, depth)
    row: list[int] = []
    for j in range(depth):
        row += [round(asks[j, 0] * 1e4), int(asks[j, 1])] if j < len(asks) else [EMPTY, 0]
        row += [round(bids[j, 0] * 1e4), int(bids[j, 1])] if j < len(bids) else [-EMPTY, 0]
    return row


def test_top_10_equals_the_book_file_after_every_message(message_file: Path) -> None:
    records = read_lobster(message_file)
    truth = np.loadtxt(book_file_of(message_file), delimiter=",", dtype=np.int64)
    ends = np.flatnonzero(records.flags & F_LAST) + 1
    assert ends.shape[0] == truth.shape[0] == 999  # one end of event per message
    book = L3Book(L3Events.from_records(records))
    for i, end in enumerate(ends):
        book.sync(int(end))
        assert _top(book, 10) == truth[i].tolist(), f"message {i + 1}"
    # Seeds only where the message file cannot know: the start, levels coming into view from
    # deeper than 10, and orders that rested before the sample; never where messages explain it.
    c = records.counters
    assert c["unexplained"] == 0
    assert c["initial"] == 19  # the book file's first row minus the first message's own order
    assert c["deeper"] > 0
    assert c["unknown_orders"] > 0
    seeded = records.action == SEED
    assert np.all(records.order_id[seeded] < 0)  # seeded orders never reuse an exchange id
    assert any("seeded from" in n for n in records.notes)


def test_the_l2_book_opened_from_lobster_matches_the_book_file(message_file: Path) -> None:
    truth = np.loadtxt(book_file_of(message_file), delimiter=",", dtype=np.int64)
    sources = open_sources([message_file])
    assert [s.kind.value for s in sources] == ["incremental_book_L2", "trades"]
    (inst,) = build_instruments(sources)
    assert inst.symbol == "AAPL"
    assert inst.orders is not None
    assert inst.tick_size == 0.01
    replayer = inst.book
    assert replayer is not None
    ts = np.array([int(t) for t in sources[0].column("local_ts")])
    # message i's receive time in µs; the L2 group at a time holds every message of that µs
    msg_us = (
        (read_lobster(message_file).ts_recv[np.flatnonzero(read_lobster(message_file).flags & F_LAST)])
        // 1000
    )
    checked = 0
    while not replayer.at_end:
        replayer.step()
        now = replayer.ts
        last = int(np.searchsorted(msg_us, now, side="right")) - 1
        row = truth[last]
        bid, ask = replayer.book.best_bid(), replayer.book.best_ask()
        assert bid is not None
        assert ask is not None
        assert (round(ask[0] * 1e4), ask[1], round(bid[0] * 1e4), bid[1]) == tuple(row[:4].tolist())
        checked += 1
    assert checked == replayer.n_groups
    assert ts.shape[0] > 0
    assert replayer.book.crossed_removals == 0


def test_a_message_file_without_its_book_file_says_the_book_starts_empty(
    message_file: Path, tmp_path: Path
) -> None:
    lone = tmp_path / NAME
    lone.write_bytes(message_file.read_bytes())
    records = read_lobster(lone)
    assert any("starts empty" in n for n in records.notes)
    assert not np.any(records.action == SEED)


def test_bad_lobster_input_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / NAME
    bad.write_text("34200.1,1,5,10,5853300,1\n34200.2,9,6,10,5853300,1\n")
    with pytest.raises(DataError) as err:
        read_lobster(bad)
    assert err.value.line == 2
    assert "type" in str(err.value)
    bad.write_text("34200.1,1,five,10,5853300,1\n")
    with pytest.raises(DataError, match="numeric"):
        read_lobster(bad)
