"""An MBO file -> one L2 book source and one trades source per instrument, each carrying its
market-by-order data (``Source.orders``), through the cache.

The L2 rows are derived once by the L3 kernel (``book.l3.events.derive_l2``) and stored as an
ordinary cache entry of ``incremental_book_L2`` rows, so index, checkpoints, seek, ladder and
strategies work unchanged. Beside it, in the entry's derived folder, ``mbo/`` holds the dense L3
arrays and the trades: a reopen maps everything and decodes nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from replayterm.core.book.l3.book import L3Book
from replayterm.core.book.l3.events import L3Events, derive_l2, trade_rows
from replayterm.core.data import cache_admin
from replayterm.core.data.cache import CacheEntry, IpcFileWriter, commit_entry, remove_path
from replayterm.core.data.mbo.dbn import is_dbn, read_dbn
from replayterm.core.data.mbo.lobster import is_lobster, read_lobster
from replayterm.core.data.mbo.records import MboRecords
from replayterm.core.data.model import BOOK_SCHEMA, TRADES_SCHEMA, Kind, Source
from replayterm.core.data.progress import Monitor

MBO_VERSION = 1
_L3_SCHEMA = pa.schema(
    [
        ("action", pa.uint8()),
        ("level", pa.int32()),
        ("size", pa.int64()),
        ("order", pa.int32()),
        ("flags", pa.uint8()),
        ("ts_recv", pa.int64()),
    ]
)


def is_mbo_file(path: Path) -> bool:
    if is_lobster(path):
        return True
    try:
        with path.open("rb") as f:
            magic = f.read(8)
    except OSError:
        return False
    return is_dbn(path, magic)


def read_mbo(path: Path) -> MboRecords:
    return read_lobster(path) if is_lobster(path) else read_dbn(path)


@dataclass(eq=False, repr=False)
class MboData:
    """One instrument's market-by-order data: the dense records and, per derived L2 row, the
    record whose end of event it belongs to. ``book()`` makes a fresh live ``L3Book``."""

    events: L3Events
    l2_record: np.ndarray
    row_offset: int = 0  # rows of the derived L2 table before this source's first row (time slice)
    counters: dict[str, int] | None = None
    _checkpoints: Any = None

    def __repr__(self) -> str:
        return f"MboData({self.events.n_records} records, {self.events.n_orders} orders)"

    def book(self) -> L3Book:
        book = L3Book(self.events, self.l2_record[self.row_offset :])
        if self._checkpoints is None:
            self._checkpoints = book.build_checkpoints()
        book.checkpoints = self._checkpoints
        return book

    def sliced(self, start: int) -> MboData:
        return MboData(self.events, self.l2_record, self.row_offset + start, self.counters, self._checkpoints)


def open_mbo(path: Path, monitor: Monitor, use_cache: bool = True) -> list[Source]:
    entry: CacheEntry | None = None
    notes: list[str] = []
    if use_cache:
        try:
            entry = CacheEntry(path)
            entry.writable()
        except OSError as exc:
            notes.append(f"cache not used: {exc}")
            entry = None
    if entry is not None:
        hit = _load(entry)
        if hit is not None:
            cache_admin.mark_in_use(entry.stem)
            return hit
    monitor.report(0.0, f"decoding {path.name}")
    records = read_mbo(path)
    monitor.report(0.5, f"building the order book of {path.name}")
    built = _derive(records)
    if entry is not None:
        with contextlib.suppress(OSError):
            _store(entry, records, built)
            loaded = _load(entry)
            if loaded is not None:
                for s in loaded:
                    s.cache_state = "built"
                return loaded
    return _sources(path, records, built, "off", notes)


@dataclass(eq=False)
class _Built:
    book: pa.Table
    trades: pa.Table
    book_groups: list[dict[str, Any]]
    trade_groups: list[dict[str, Any]]
    l3: list[tuple[L3Events, np.ndarray, dict[str, int]]]


def _dict_column(value: str, n: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int16)), pa.array([value]))


def _derive(records: MboRecords) -> _Built:
    books, trades, book_groups, trade_groups, l3 = [], [], [], [], []
    book_start = trade_start = 0
    for i, symbol in enumerate(records.symbols):
        part = records if len(records.symbols) == 1 else records.select(records.instrument == i)
        events = L3Events.from_records(part)
        derived = derive_l2(events)
        rec = derived.record
        local = np.maximum.accumulate(part.ts_recv[rec] // 1000) if rec.size else np.zeros(0, np.int64)
        clamped = int(np.count_nonzero(local != part.ts_recv[rec] // 1000))
        n = rec.shape[0]
        books.append(
            pa.table(
                [
                    _dict_column(records.exchange, n),
                    _dict_column(symbol, n),
                    pa.array(local),
                    pa.array(part.ts_event[rec] // 1000),
                    pa.array(np.where(derived.level % 2 == 0, 1, -1).astype(np.int8)),
                    pa.array(events.prices[derived.level >> 1] / part.price_scale),
                    pa.array(derived.total.astype(np.float64)),
                    pa.array(derived.snapshot),
                ],
                schema=BOOK_SCHEMA,
            )
        )
        warnings = list(part.notes)
        c = derived.counters
        if c["unknown_cancels"] or c["unknown_modifies"]:
            warnings.append(
                f"{symbol}: {c['unknown_cancels']} cancels and {c['unknown_modifies']} modifies named orders "
                "not in the book (the data starts without a snapshot of the resting orders)"
            )
        if clamped:
            warnings.append(
                f"{symbol}: {clamped} book rows had a receive time earlier than a row before them"
            )
        book_groups.append(_group(records.exchange, symbol, book_start, n, clamped, warnings))
        book_start += n
        tr = trade_rows(part)
        t_local = np.maximum.accumulate(part.ts_recv[tr] // 1000) if tr.size else np.zeros(0, np.int64)
        trades.append(
            pa.table(
                [
                    _dict_column(records.exchange, tr.shape[0]),
                    _dict_column(symbol, tr.shape[0]),
                    pa.array(t_local),
                    pa.array(part.ts_event[tr] // 1000),
                    pa.array(part.side[tr].astype(np.int8)),
                    pa.array(part.price[tr] / part.price_scale),
                    pa.array(part.size[tr].astype(np.float64)),
                    pc.cast(pa.array(part.order_id[tr]), pa.string()),
                ],
                schema=TRADES_SCHEMA,
            )
        )
        trade_groups.append(_group(records.exchange, symbol, trade_start, tr.shape[0], 0, []))
        trade_start += tr.shape[0]
        l3.append((events, rec, c))
    return _Built(
        pa.concat_tables(books, promote_options="permissive").unify_dictionaries(),
        pa.concat_tables(trades, promote_options="permissive").unify_dictionaries(),
        book_groups,
        trade_groups,
        l3,
    )


def _group(
    exchange: str, symbol: str, start: int, length: int, clamped: int, warnings: list[str]
) -> dict[str, Any]:
    return {"exchange": exchange, "symbol": symbol, "start": start, "length": length,
            "clamped_rows": clamped, "warnings": warnings}  # fmt: skip


def _sources(
    path: Path, records_or_none: MboRecords | None, built: _Built, state: str, notes: list[str]
) -> list[Source]:
    out: list[Source] = []
    for g, tg, (events, rec, counters) in zip(built.book_groups, built.trade_groups, built.l3, strict=True):
        orders = MboData(events, rec, 0, counters)
        book = built.book.slice(g["start"], g["length"])
        trades = built.trades.slice(tg["start"], tg["length"])
        common = {"path": path, "exchange": g["exchange"], "symbol": g["symbol"], "cache_state": state}
        out.append(
            Source(kind=Kind.BOOK, table=book, warnings=[*notes, *g["warnings"]], orders=orders, **common)
        )
        out.append(Source(kind=Kind.TRADES, table=trades, warnings=[], **common))
    return out


def _folder(entry: CacheEntry) -> Path:
    return entry.derived_dir / f"mbo-v{MBO_VERSION}"


def _write(path: Path, table: pa.Table) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with pa.OSFile(str(tmp), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(tmp, path)


def _map(path: Path) -> pa.Table:
    return ipc.open_file(pa.memory_map(str(path), "r")).read_all()


def _store(entry: CacheEntry, records: MboRecords, built: _Built) -> None:
    folder = _folder(entry)
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "trades.arrow", built.trades)
    for i, (events, rec, counters) in enumerate(built.l3):
        table = pa.table(
            [events.action, events.level, events.size, events.order, events.flags, events.records.ts_recv],
            schema=_L3_SCHEMA,
        )
        _write(folder / f"l3-{i}.arrow", table)
        _write(folder / f"l3-{i}-prices.arrow", pa.table({"price": events.prices}))
        _write(folder / f"l3-{i}-l2.arrow", pa.table({"record": rec}))
        (folder / f"l3-{i}.json").write_text(
            json.dumps(
                {"n_orders": events.n_orders, "price_scale": events.records.price_scale, "counters": counters}
            ),
            "utf-8",
        )
    (folder / "trades.json").write_text(json.dumps({"groups": built.trade_groups}), "utf-8")
    table_file = entry.temp_path(".arrow")
    writer = IpcFileWriter(table_file, BOOK_SCHEMA)
    try:
        for batch in built.book.to_batches(max_chunksize=1 << 17):
            writer.write(batch)
        writer.close()
        meta = {"kind": Kind.BOOK.value, "snapshot_depth": None, "file_format": records.file_format,
                "source": str(entry.source), "mbo": MBO_VERSION, "groups": built.book_groups}  # fmt: skip
        commit_entry(entry, table_file, None, meta, writer.batches)
    finally:
        remove_path(table_file)


def _load(entry: CacheEntry) -> list[Source] | None:
    loaded = entry.load()
    if loaded is None:
        return None
    book, meta = loaded
    folder = _folder(entry)
    try:
        if meta.get("mbo") != MBO_VERSION:
            raise ValueError("not an MBO entry")
        trades = _map(folder / "trades.arrow")
        trade_groups = json.loads((folder / "trades.json").read_text("utf-8"))["groups"]
        l3 = []
        for i in range(len(meta["groups"])):
            info = json.loads((folder / f"l3-{i}.json").read_text("utf-8"))
            t = _map(folder / f"l3-{i}.arrow")
            cols = {name: t.column(name).to_numpy() for name in t.schema.names}
            prices = _map(folder / f"l3-{i}-prices.arrow").column("price").to_numpy()
            rec = _map(folder / f"l3-{i}-l2.arrow").column("record").to_numpy()
            records = _stub_records(cols["ts_recv"], info["price_scale"])
            events = L3Events(records, cols["action"], cols["level"], cols["size"], cols["order"],
                              cols["flags"], prices, int(info["n_orders"]))  # fmt: skip
            l3.append((events, rec, info["counters"]))
    except (OSError, ValueError, KeyError, pa.ArrowException):
        entry.remove()
        return None
    built = _Built(book, trades, meta["groups"], trade_groups, l3)
    return _sources(entry.source, None, built, "hit", [])


def _stub_records(ts_recv: np.ndarray, price_scale: float) -> MboRecords:
    """What the L3 book needs of the records once they are cached: times and the price scale."""
    empty = np.zeros(0, np.int64)
    return MboRecords(ts_recv, empty, empty, empty, empty, empty, empty, empty, empty,
                      price_scale=price_scale, exchange="", symbols=[], file_format="")  # fmt: skip
