"""LOBSTER message files -> ``MboRecords``, seeded from the row-aligned order book file.

A LOBSTER message file (``time, type, order id, size, price x 10000, direction``) lists only the
orders that arrive, change or trade during the sample: orders resting before it started are
unknown, and so is every level deeper than the book file's depth. The book file beside it
(``..._orderbook_N.csv``, row i = the top N levels after message i) carries both. After each
message the reader compares its order book with that row and, where the row shows more at a
price than the known orders add up to, places one *seeded* order (action ``S``) at the front of
the level for the difference: those orders were resting before any order the message file names.
A cancel or execution of an unknown order takes from the seed at its price. LOBSTER writes
only the messages that change its N visible levels, so a level that was deeper than N may have
changed unseen when it comes back into view: the row is the truth there too, and the difference
is taken from the seed first, then from the back of the queue. The counts of seeds
by reason end up in the notes shown to the user.

Types: 1 add, 2 partial cancel, 3 delete, 4 visible execution (a trade plus the resting order's
reduction), 5 hidden execution and 6 cross trade (trades only), 7 trading halt (no book change).
Times are seconds after midnight New York time on the date in the file name.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from replayterm.core.data.mbo.records import (
    ADD,
    CANCEL,
    F_LAST,
    NONE,
    SEED,
    TRADE,
    MboRecords,
)
from replayterm.core.errors import DataError

NAME = re.compile(r"^(?P<symbol>[^_]+)_(?P<date>\d{4}-\d{2}-\d{2})_\d+_\d+_message_(?P<depth>\d+)\.csv$")
PRICE_SCALE = 1e4
EMPTY_PRICE = 9999999999


def is_lobster(path: Path) -> bool:
    return NAME.match(path.name) is not None


def book_file_of(path: Path) -> Path:
    return path.with_name(path.name.replace("_message_", "_orderbook_"))


def _read_csv(path: Path, columns: int) -> np.ndarray:
    names = [f"c{i}" for i in range(columns)]
    try:
        table = pacsv.read_csv(
            str(path),
            read_options=pacsv.ReadOptions(column_names=names),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.float64() for n in names}),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        first = str(exc).splitlines()[0]
        raise DataError(path, f"not a LOBSTER file with {columns} numeric columns ({first})",
                        hint="Give the original LOBSTER CSV (no header)") from None  # fmt: skip
    return (
        np.column_stack([table.column(n).to_numpy() for n in names])
        if table.num_rows
        else np.zeros((0, columns))
    )


def _columns_of(path: Path) -> int:
    with path.open("r", encoding="ascii", errors="replace") as f:
        first = f.readline()
    return first.count(",") + 1


def read_lobster(path: Path) -> MboRecords:
    match = NAME.match(path.name)
    if match is None:
        raise DataError(
            path,
            "not a LOBSTER message file name",
            hint="Keep LOBSTER's own name: SYMBOL_DATE_START_END_message_N.csv",
        )
    msgs = _read_csv(path, 6)
    if msgs.shape[0] == 0:
        raise DataError(path, "no messages", hint="The file is empty")
    types = msgs[:, 1].astype(np.int64)
    bad = np.flatnonzero(~np.isin(types, (1, 2, 3, 4, 5, 6, 7)))
    if bad.size:
        raise DataError(path, "unknown LOBSTER event type", line=int(bad[0]) + 1, column="type",
                        value=str(types[bad[0]]), hint="Types are 1-7")  # fmt: skip
    day = dt.date.fromisoformat(match["date"])
    midnight = dt.datetime.combine(day, dt.time(0), ZoneInfo("America/New_York"))
    base_ns = int(midnight.timestamp()) * 1_000_000_000
    ts = base_ns + np.round(msgs[:, 0] * 1e9).astype(np.int64)
    notes: list[str] = []
    book_path = book_file_of(path)
    book = None
    if book_path.exists():
        cols = _columns_of(book_path)
        book = _read_csv(book_path, cols).astype(np.int64)
        if book.shape[0] != msgs.shape[0]:
            what = f"{book.shape[0]} rows for {msgs.shape[0]} messages: not row-aligned with {path.name}"
            raise DataError(book_path, what, hint="Give the orderbook file of the same LOBSTER download")
    else:
        notes.append(
            f"{path.name}: no order book file ({book_path.name}) beside it, so the orders resting before "
            "the sample and the deeper levels are unknown: the book starts empty"
        )
    records, counts = _Seeder(msgs, types, ts, book).run()
    if book is not None:
        notes.append(
            f"{path.name}: a LOBSTER message file lacks the orders resting before the sample and levels "
            f"deeper than {book.shape[1] // 4}; they were seeded from {book_path.name}: "
            f"{counts['initial']} levels at the start, {counts['deeper']} levels that came into view later, "
            f"{counts['unknown_orders']} changes to orders resting before the sample"
        )
        if counts["unexplained"]:
            notes.append(
                f"{path.name}: {counts['unexplained']} levels differed from the book file where the "
                "messages explain the level"
            )
    return MboRecords(
        **records,
        price_scale=PRICE_SCALE,
        exchange="lobster",
        symbols=[match["symbol"]],
        file_format="lobster csv",
        notes=notes,
        counters=counts,
    )


class _Seeder:
    """Turns messages into records and reconciles the book with the book file after each one."""

    def __init__(self, msgs: np.ndarray, types: np.ndarray, ts: np.ndarray, book: np.ndarray | None) -> None:
        self.msgs, self.types, self.ts, self.book = msgs, types, ts, book
        self.cols: dict[str, list[int]] = {
            n: [] for n in ("ts", "action", "side", "price", "size", "order_id", "flags")
        }
        self.orders: dict[int, tuple[int, int, int]] = {}  # id -> (side, price, size)
        self.queues: dict[tuple[int, int], dict[int, None]] = {}  # (side, price) -> ids, FIFO
        self.levels: dict[tuple[int, int], int] = {}  # (side, price) -> total size
        self.seeds: dict[tuple[int, int], tuple[int, int]] = {}  # (side, price) -> (seed id, size)
        self.next_seed = -1
        self.counts = {"initial": 0, "deeper": 0, "unknown_orders": 0, "unexplained": 0}

    def emit(self, i: int, action: int, side: int, price: int, size: int, oid: int, flags: int = 0) -> None:
        c = self.cols
        c["ts"].append(int(self.ts[i]))
        c["action"].append(action)
        c["side"].append(side)
        c["price"].append(price)
        c["size"].append(size)
        c["order_id"].append(oid)
        c["flags"].append(flags)

    def _level_add(self, key: tuple[int, int], delta: int) -> None:
        total = self.levels.get(key, 0) + delta
        if total > 0:
            self.levels[key] = total
        else:
            self.levels.pop(key, None)

    def add(self, i: int, oid: int, side: int, price: int, size: int) -> None:
        self.emit(i, ADD, side, price, size, oid)
        self.orders[oid] = (side, price, size)
        self.queues.setdefault((side, price), {})[oid] = None
        self._level_add((side, price), size)

    def seed(self, i: int, key: tuple[int, int], extra: int) -> None:
        """Front-of-queue seed at ``key`` grown by ``extra`` (one seed order per level)."""
        side, price = key
        old = self.seeds.get(key)
        size = extra
        if old is not None:
            self.emit(i, CANCEL, side, price, old[1], old[0])
            size += old[1]
        sid = self.next_seed
        self.next_seed -= 1
        self.emit(i, SEED, side, price, size, sid)
        self.seeds[key] = (sid, size)
        self._level_add(key, extra)

    def take_known(self, i: int, oid: int, take: int) -> None:
        s, p, left = self.orders[oid]
        self.emit(i, CANCEL, s, p, take, oid)
        self._level_add((s, p), -take)
        if left - take > 0:
            self.orders[oid] = (s, p, left - take)
        else:
            del self.orders[oid]
            self.queues[(s, p)].pop(oid, None)

    def take_seed(self, i: int, key: tuple[int, int], take: int) -> None:
        sid, left = self.seeds[key]
        self.emit(i, CANCEL, key[0], key[1], take, sid)
        self._level_add(key, -take)
        if left - take > 0:
            self.seeds[key] = (sid, left - take)
        else:
            del self.seeds[key]

    def reduce(self, i: int, oid: int, side: int, price: int, size: int, delete: bool) -> None:
        known = self.orders.get(oid)
        if known is not None:
            self.take_known(i, oid, known[2] if delete else min(size, known[2]))
            return
        key = (side, price)
        self.counts["unknown_orders"] += 1
        if self.book is None:
            return  # nothing to take it from: the order is simply not in the book
        have = self.seeds.get(key, (0, 0))[1]
        if have < size:
            self.seed(i, key, size - have)
        self.take_seed(i, key, size)

    def shrink(self, i: int, key: tuple[int, int], excess: int) -> None:
        """The level holds ``excess`` more than the book file shows (it changed out of view):
        take it from the seed first, then from the back of the queue."""
        if key in self.seeds and excess > 0:
            take = min(excess, self.seeds[key][1])
            self.take_seed(i, key, take)
            excess -= take
        for oid in reversed(list(self.queues.get(key, {}))):
            if excess <= 0:
                break
            take = min(excess, self.orders[oid][2])
            self.take_known(i, oid, take)
            excess -= take

    def run(self) -> tuple[dict[str, Any], dict[str, int]]:
        msgs, types = self.msgs, self.types
        prev_row: np.ndarray | None = None
        for i in range(msgs.shape[0]):
            start = len(self.cols["ts"])
            kind = int(types[i])
            oid, size, price, side = int(msgs[i, 2]), int(msgs[i, 3]), int(msgs[i, 4]), int(msgs[i, 5])
            if kind == 1:
                self.add(i, oid, side, price, size)
            elif kind in (2, 3):
                self.reduce(i, oid, side, price, size, delete=kind == 3)
            elif kind == 4:
                self.emit(i, TRADE, -side, price, size, oid)
                self.reduce(i, oid, side, price, size, delete=False)
            elif kind in (5, 6):
                self.emit(i, TRADE, -side if side in (1, -1) else 0, price, size, oid)
            else:
                self.emit(i, NONE, 0, 0, 0, 0)
            if self.book is not None:
                self.reconcile(i, self.book[i], prev_row)
                prev_row = self.book[i]
            if len(self.cols["ts"]) == start:
                self.emit(i, NONE, 0, 0, 0, 0)
            self.cols["flags"][-1] |= F_LAST
        c = self.cols
        ts = np.array(c["ts"], dtype=np.int64)
        records = {
            "ts_recv": ts,
            "ts_event": ts,
            "action": np.array(c["action"], dtype=np.uint8),
            "side": np.array(c["side"], dtype=np.int8),
            "price": np.array(c["price"], dtype=np.int64),
            "size": np.array(c["size"], dtype=np.int64),
            "order_id": np.array(c["order_id"], dtype=np.int64),
            "flags": np.array(c["flags"], dtype=np.uint8),
            "instrument": np.zeros(ts.shape[0], dtype=np.int32),
        }
        return records, self.counts

    def reconcile(self, i: int, row: np.ndarray, prev: np.ndarray | None) -> None:
        """Make the levels the row shows (and the gaps between them) equal to the row."""
        for side, offset in ((-1, 0), (1, 2)):
            shown = _shown(row, offset)
            before = _shown(prev, offset) if prev is not None else None
            depth = row[offset::4].shape[0]
            target = dict(shown)
            if shown and len(shown) == depth:
                worst = shown[-1][0]
                inside = [
                    k for k in self.levels if k[0] == side and (k[1] <= worst if side < 0 else k[1] >= worst)
                ]
            else:
                inside = [k for k in self.levels if k[0] == side]
            keys = {k for k in inside} | {(side, p) for p in target}
            for key in sorted(keys):
                ours = self.levels.get(key, 0)
                want = target.get(key[1], 0)
                if ours == want:
                    continue
                if before is None:
                    self.counts["initial"] += 1
                elif _was_hidden(key[1], side, before, depth):
                    self.counts["deeper"] += 1
                else:
                    self.counts["unexplained"] += 1
                if ours < want:
                    self.seed(i, key, want - ours)
                else:
                    self.shrink(i, key, ours - want)


def _shown(row: np.ndarray | None, offset: int) -> list[tuple[int, int]]:
    if row is None:
        return []
    prices, sizes = row[offset::4].tolist(), row[offset + 1 :: 4].tolist()
    return [(p, q) for p, q in zip(prices, sizes, strict=True) if q > 0 and abs(p) != EMPTY_PRICE]


def _was_hidden(price: int, side: int, before: list[tuple[int, int]], depth: int) -> bool:
    """The price lay beyond the previous row's deepest level (so it could change unseen)."""
    if len(before) < depth or not before:
        return False
    worst = before[-1][0]
    return price > worst if side < 0 else price < worst
