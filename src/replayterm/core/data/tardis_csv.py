"""Writing any source (raw recordings included) as Tardis.dev CSV: one gzip file per UTC day of
receive time, named as Tardis names its downloads (``<exchange>_<type>_<YYYY-MM-DD>_<SYMBOL>.csv.gz``),
with Tardis's columns, so a raw recording can feed any tool that reads Tardis files.

Book files follow Tardis's convention that each day opens with the whole book: rows before the
first snapshot are left out, and a day after the first starts with a snapshot of the book as it
stands after that day's first message (in place of that message), so every file replays alone.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from replayterm.core.data.model import Kind, Source

DAY_US = 86_400_000_000
TYPE_NAMES = {
    Kind.BOOK: "incremental_book_L2",
    Kind.TRADES: "trades",
    Kind.QUOTES: "quotes",
    Kind.BOOK_TICKER: "book_ticker",
    Kind.LIQUIDATIONS: "liquidations",
}
_WRITE = pa_csv.WriteOptions(include_header=False, quoting_style="none")


def file_name(exchange: str, kind: Kind, day: int, symbol: str) -> str:
    date = datetime.fromtimestamp(day * DAY_US / 1e6, tz=UTC).strftime("%Y-%m-%d")
    return f"{exchange}_{TYPE_NAMES[kind]}_{date}_{symbol}.csv.gz"


def _text(arr: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.cast(arr, pa.string())


def _frame(s: Source, table: pa.Table) -> pa.Table:
    n = table.num_rows
    ex = pa.array([s.exchange] * n, pa.string())
    sym = pa.array([s.symbol] * n, pa.string())
    head = {
        "exchange": ex,
        "symbol": sym,
        "timestamp": _text(table["exch_ts"]),
        "local_timestamp": _text(table["local_ts"]),
    }
    if s.kind is Kind.BOOK:
        side = pc.if_else(pc.greater(table["side"], 0), "bid", "ask")
        snap = pc.if_else(table["is_snapshot"], "true", "false")
        cols = {
            **head,
            "is_snapshot": snap,
            "side": side,
            "price": _text(table["price"]),
            "amount": _text(table["amount"]),
        }
    elif s.kind in (Kind.TRADES, Kind.LIQUIDATIONS):
        side = pc.if_else(
            pc.greater(table["side"], 0), "buy", pc.if_else(pc.less(table["side"], 0), "sell", "unknown")
        )
        cols = {
            **head,
            "id": table["id"],
            "side": side,
            "price": _text(table["price"]),
            "amount": _text(table["amount"]),
        }
    else:
        cols = {
            **head,
            "ask_amount": _text(table["ask_amount"]),
            "ask_price": _text(table["ask_price"]),
            "bid_price": _text(table["bid_price"]),
            "bid_amount": _text(table["bid_amount"]),
        }
    return pa.table(cols)


def _day_slices(ts: np.ndarray) -> Iterator[tuple[int, int, int]]:
    days = ts // DAY_US
    if not ts.shape[0]:
        return
    cuts = np.flatnonzero(np.diff(days)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [ts.shape[0]]])
    for a, b in zip(starts, ends, strict=True):
        yield int(days[a]), int(a), int(b)


def _book_day_opening(s: Source, table: pa.Table, lo: int, hi: int) -> pa.Table:
    """A day after the first: the book after its first message, as snapshot rows at that
    message's times, then the day's other messages."""
    from replayterm.core.replay.instruments import build_instruments

    ts = table["local_ts"].to_numpy()
    first_end = lo + int(np.searchsorted(ts[lo:hi], ts[lo], side="right"))
    (inst,) = build_instruments([Source(s.path, s.kind, s.exchange, s.symbol, table.slice(0, first_end))])
    assert inst.book is not None
    inst.book.run_to_end()
    bids, asks = inst.book.book.levels(1, 10**9), inst.book.book.levels(-1, 10**9)
    n = bids.shape[0] + asks.shape[0]
    exch = int(table["exch_ts"][first_end - 1].as_py())
    snapshot = pa.table(
        {
            "exchange": table["exchange"].slice(lo, 1).take(pa.array(np.zeros(n, np.int64))),
            "symbol": table["symbol"].slice(lo, 1).take(pa.array(np.zeros(n, np.int64))),
            "local_ts": pa.array(np.full(n, ts[lo], np.int64)),
            "exch_ts": pa.array(np.full(n, exch, np.int64)),
            "side": pa.array(
                np.concatenate([np.ones(bids.shape[0]), -np.ones(asks.shape[0])]).astype(np.int8)
            ),
            "price": pa.array(np.concatenate([bids[:, 0], asks[:, 0]])),
            "amount": pa.array(np.concatenate([bids[:, 1], asks[:, 1]])),
            "is_snapshot": pa.array(np.ones(n, bool)),
        },
        schema=table.schema,
    )
    return pa.concat_tables([snapshot, table.slice(first_end, hi - first_end)])


def write_tardis_csv(sources: Sequence[Source], out: Path) -> list[tuple[Path, int]]:
    """Every source as Tardis CSV per day under ``out``; returns (file, rows) per file written."""
    written = []
    for s in sources:
        if s.kind not in TYPE_NAMES or not s.rows:
            continue
        table = s.table
        if s.kind is Kind.BOOK:
            first = s.rows_before_snapshot
            table = table.slice(first)
        ts = table["local_ts"].to_numpy()
        for n, (day, lo, hi) in enumerate(_day_slices(ts)):
            part = table.slice(lo, hi - lo)
            if s.kind is Kind.BOOK and n > 0 and not bool(table["is_snapshot"][lo].as_py()):
                part = _book_day_opening(s, table, lo, hi)
            target = out / file_name(s.exchange, s.kind, day, s.symbol)
            tmp = target.with_name(target.name + ".tmp")
            frame = _frame(s, part)
            with gzip.open(tmp, "wb", compresslevel=6) as f:
                f.write((",".join(frame.column_names) + "\n").encode())  # Tardis: an unquoted header
                pa_csv.write_csv(frame, f, _WRITE)
            tmp.replace(target)
            written.append((target, part.num_rows))
    return written
