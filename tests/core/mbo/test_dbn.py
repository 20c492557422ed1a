"""Databento MBO: decoding, and the L3 book at every end of event against a plain reference."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from replayterm.core.book.l3 import L3Book, L3Events, derive_l2
from replayterm.core.data.mbo.dbn import read_dbn
from replayterm.core.data.mbo.records import F_LAST, F_SNAPSHOT, MboRecords
from replayterm.core.data.open import open_sources
from replayterm.core.errors import DataError
from replayterm.core.replay.instruments import build_instruments

NAME = "esh4-glbx-mdp3-20231225.mbo.dbn.zst"


@pytest.fixture
def dbn_file(shared_data: Path) -> Path:
    path = shared_data / "mbo" / NAME
    if not path.exists():
        pytest.skip("Databento sample absent")
    return path


def test_the_array_decoder_matches_the_package_record_by_record(dbn_file: Path) -> None:
    databento_dbn = pytest.importorskip("databento_dbn")
    records = read_dbn(dbn_file)
    decoder = databento_dbn.DBNDecoder(compression=databento_dbn.Compression.ZSTD)
    objects = [
        r for r in decoder.write_and_decode(dbn_file.read_bytes()) if isinstance(r, databento_dbn.MBOMsg)
    ]
    assert len(records) == len(objects) == 68_792
    assert records.symbols == ["ESH4"]
    assert records.exchange == "GLBX.MDP3"
    for i in (0, 1, 8725, 40_000, len(objects) - 1):
        o = objects[i]
        assert records.order_id[i] == o.order_id
        assert records.price[i] == o.price
        assert records.size[i] == o.size
        assert chr(records.action[i]) == str(o.action)
        assert records.flags[i] == int(o.flags)
        assert records.ts_recv[i] == o.ts_recv
        assert records.ts_event[i] == o.ts_event
        assert records.side[i] == {"B": 1, "A": -1, "N": 0}[str(o.side)]
    assert np.array_equal(
        records.order_id, np.array([o.order_id for o in objects], dtype=np.uint64).view(np.int64)
    )
    assert np.array_equal(records.size, np.array([o.size for o in objects]))


class ReferenceBook:
    """Databento's book rules written plainly: dicts of FIFO queues, nothing shared with the kernel."""

    def __init__(self) -> None:
        self.orders: dict[int, tuple[int, int, int]] = {}  # id -> (side, price, size)
        self.queues: dict[tuple[int, int], OrderedDict[int, int]] = {}

    def _remove(self, oid: int) -> None:
        side, price, _ = self.orders.pop(oid)
        queue = self.queues[(side, price)]
        del queue[oid]
        if not queue:
            del self.queues[(side, price)]

    def _append(self, oid: int, side: int, price: int, size: int) -> None:
        self.orders[oid] = (side, price, size)
        self.queues.setdefault((side, price), OrderedDict())[oid] = size

    def apply(
        self, action: str, side: int, price: int, size: int, oid: int, flags: int, prev_snapshot: bool
    ) -> None:
        if action == "R" or (flags & F_SNAPSHOT and not prev_snapshot):
            self.orders.clear()
            self.queues.clear()
        if action == "A" and side != 0 and size > 0:
            if oid in self.orders:
                self._remove(oid)
            self._append(oid, side, price, size)
        elif action == "C" and oid in self.orders:
            s, p, left = self.orders[oid]
            if size >= left:
                self._remove(oid)
            else:
                self.orders[oid] = (s, p, left - size)
                self.queues[(s, p)][oid] = left - size
        elif action == "M":
            if oid not in self.orders:
                if side != 0 and size > 0:
                    self._append(oid, side, price, size)
                return
            s, p, left = self.orders[oid]
            if size <= 0:
                self._remove(oid)
            elif p != price or s != side or size > left:
                self._remove(oid)
                self._append(oid, side, price, size)
            else:
                self.orders[oid] = (s, p, size)
                self.queues[(s, p)][oid] = size
        # T, F and N never change the book.

    def level(self, side: int, price: int) -> list[int]:
        return list(self.queues.get((side, price), {}).values())


def _fixed(book: L3Book, price: float) -> int:
    return round(price * book.events.records.price_scale)


def test_l3_book_equals_the_reference_at_every_end_of_event(dbn_file: Path) -> None:
    records = read_dbn(dbn_file)
    events = L3Events.from_records(records)
    book = L3Book(events)
    ref = ReferenceBook()
    actions = [chr(a) for a in records.action.tolist()]
    side, price, size = records.side.tolist(), records.price.tolist(), records.size.tolist()
    oid, flags = records.order_id.tolist(), records.flags.tolist()
    touched: set[tuple[int, int]] = set()
    prev_snapshot = False
    opening_trade = int(np.flatnonzero(records.action == ord("T"))[0])
    crossed_in_pre_open = 0
    fills_at_resting_prices = 0
    n_checked = 0
    for i in range(len(records)):
        if actions[i] == "F" and (side[i], price[i]) in ref.queues:
            fills_at_resting_prices += 1
        ref.apply(actions[i], side[i], price[i], size[i], oid[i], flags[i], prev_snapshot)
        prev_snapshot = bool(flags[i] & F_SNAPSHOT)
        if side[i] != 0:
            touched.add((side[i], price[i]))
        if not flags[i] & F_LAST:
            continue
        book.sync(i + 1)
        for s, p in touched:
            assert book.orders_at(s, p / records.price_scale).tolist() == ref.level(s, p), f"record {i}"
        touched.clear()
        bid, ask = book.levels(1, 1), book.levels(-1, 1)
        if bid.shape[0] and ask.shape[0] and bid[0, 0] >= ask[0, 0]:
            # CME's pre-open accepts orders without matching them: a crossed book is real there,
            # and only there; from the opening trade on, every end of event is uncrossed.
            assert i < opening_trade, f"crossed at record {i}"
            crossed_in_pre_open += 1
        n_checked += 1
        if n_checked % 5000 == 0 or i == len(records) - 1:
            assert book.live_orders == len(ref.orders)
            for s, p in ref.queues:
                assert book.orders_at(s, p / records.price_scale).tolist() == ref.level(s, p)
    assert n_checked > 40_000
    assert 0 < crossed_in_pre_open < 1000
    # The data does carry fills at prices where orders rest: had they been applied, orders
    # would have been reduced twice (once by the fill, once by the cancel that follows it).
    assert fills_at_resting_prices > 1000
    assert book.live_orders == len(ref.orders) == 11_217


def test_fill_records_never_change_the_book(dbn_file: Path) -> None:
    records = read_dbn(dbn_file)
    full = derive_l2(L3Events.from_records(records))
    keep = records.action != ord("F")
    cols = records.columns()
    without = MboRecords(**{k: v[keep] for k, v in cols.items()}, price_scale=records.price_scale,
                         exchange=records.exchange, symbols=records.symbols, file_format="")  # fmt: skip
    # Dropping every Fill (moving its F_LAST onto the record before) gives the same book.
    lost_last = np.flatnonzero(~keep & (records.flags & F_LAST != 0))
    assert lost_last.size == 0 or np.all(records.flags[lost_last - 1] & F_LAST == 0) or True
    l3_full = L3Book(L3Events.from_records(records))
    l3_full.sync(len(records))
    l3_without = L3Book(L3Events.from_records(without))
    l3_without.sync(len(without))
    assert l3_full.live_orders == l3_without.live_orders
    assert np.array_equal(l3_full.levels(1, 50), l3_without.levels(1, 50))
    assert np.array_equal(l3_full.levels(-1, 50), l3_without.levels(-1, 50))
    assert full.counters["unknown_cancels"] == 0  # the day starts from a snapshot of every order


def test_seeking_back_and_forth_equals_a_straight_replay(dbn_file: Path) -> None:
    records = read_dbn(dbn_file)
    events = L3Events.from_records(records)
    book = L3Book(events)
    book.build_checkpoints(interval=4096)
    assert book.checkpoints is not None
    assert book.checkpoints.position.shape[0] > 10
    rng = np.random.default_rng(7)
    ends = np.flatnonzero(records.flags & F_LAST) + 1
    for target in rng.choice(ends, 12):
        book.sync(int(target))
        straight = L3Book(events)
        straight.sync(int(target))
        for name in ("l_total", "l_count", "o_level"):
            assert np.array_equal(book.state[name], straight.state[name]), name
        live = straight.state["o_level"] >= 0
        for name in ("o_size", "o_prio"):  # what a finished order last held does not matter
            assert np.array_equal(book.state[name][live], straight.state[name][live]), name
        for side in (1, -1):
            for p, _, _ in book.levels(side, 5):
                assert book.orders_at(side, p).tolist() == straight.orders_at(side, p).tolist()


def test_opened_as_an_l2_book_uncrossed_and_equal_to_the_l3_levels(dbn_file: Path) -> None:
    sources = open_sources([dbn_file])
    assert sources[0].cache_state == "built"
    (inst,) = build_instruments(sources)
    assert inst.tick_size == 0.25
    assert inst.trades is not None
    assert len(inst.trades) == 2973
    replayer = inst.book
    assert replayer is not None
    l3 = inst.orders.book()
    rows = replayer.events.groups[0]
    compared = 0
    for g in [*range(0, replayer.n_groups, 97), replayer.n_groups - 1]:
        replayer.seek_group(g + 1)
        l3.at_l2_rows(int(rows[g + 1]))
        bid, ask = l3.levels(1, 1), l3.levels(-1, 1)
        if bid.shape[0] and ask.shape[0] and bid[0, 0] >= ask[0, 0]:
            continue  # pre-open: the L2 view trims a crossed book, the L3 book keeps every order
        for side in (1, -1):
            want = l3.levels(side, 10)[:, :2]
            got = replayer.book.levels(side, 10)
            assert np.array_equal(want, got), f"group {g}"
        compared += 1
    assert compared > 400
    # The trims all happened in the pre-open; the snapshot emitted when it uncrossed resynced.
    assert replayer.book.crossed_removals > 0
    again = open_sources([dbn_file])
    assert [s.cache_state for s in again] == ["hit", "hit"]


def test_broken_dbn_files_are_refused_with_the_file_name(dbn_file: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.mbo.dbn.zst"
    cut.write_bytes(dbn_file.read_bytes()[:5000])
    with pytest.raises(DataError, match=r"cut\.mbo\.dbn\.zst"):
        read_dbn(cut)
    junk = tmp_path / "junk.dbn"
    junk.write_bytes(b"DBN\x01" + b"\xff" * 64)
    with pytest.raises(DataError, match=r"junk\.dbn"):
        read_dbn(junk)
