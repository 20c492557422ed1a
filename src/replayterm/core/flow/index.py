"""The 1-second order-flow table of one instrument's trades, stored beside its cache entry.

Built in one pass over the mapped trade columns (window by window, so memory is bounded by the
window) when the data is first opened, written like the book index (``book.store``: a private
folder renamed into place with a versioned manifest) and mapped on every later open. Every bar
of one second or more, every profile and every CVD/VWAP series is merged from it, plus the raw
trades of the partial seconds at the edges of the asked range: a 7-day session profile or 1-minute
footprint reads a few hundred thousand rows, never the trades.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from replayterm.core.data.cache import CacheEntry, cache_dir
from replayterm.core.data.model import Source
from replayterm.core.data.progress import Cancelled
from replayterm.core.flow.grid import WINDOW_ROWS, Grid, detect_grid
from replayterm.core.flow.groups import CELL_FIELDS, ROW_FIELDS, US, Groups, concat, group_trades
from replayterm.core.store.arrays import ArrayStore, open_index, remove_stale, scratch_dir

FLOW_VERSION = 1
PREFIX = "flow-"

ProgressFn = Callable[[float, str], object]
CancelFn = Callable[[], bool]


@dataclass(frozen=True, eq=False)
class TradeColumns:
    """The trade columns the order-flow code reads (numpy arrays or mapped ``ChunkedColumn``s)."""

    local_ts: Any
    price: Any
    amount: Any
    side: Any

    def __len__(self) -> int:
        return int(self.local_ts.shape[0])

    def count_through(self, ts: int) -> int:
        """Trades with ``local_ts <= ts``."""
        return int(self.local_ts.searchsorted(ts, side="right"))

    def count_before(self, ts: int) -> int:
        return int(self.local_ts.searchsorted(ts, side="left"))

    @classmethod
    def of(cls, stream: Any) -> TradeColumns:
        return cls(stream.local_ts, stream.price, stream.amount, stream.side)


def raw_groups(
    trades: TradeColumns,
    grid: Grid,
    start: int,
    stop: int,
    keys_of: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> Groups:
    """Trade rows ``[start, stop)`` grouped by second (or by ``keys_of(ts, rows)``), in memory."""
    parts = []
    for lo in range(start, stop, WINDOW_ROWS):
        hi = min(lo + WINDOW_ROWS, stop)
        parts.append(_window_groups(trades, grid, lo, hi, keys_of))
    return concat(parts)


def _window_groups(trades: TradeColumns, grid: Grid, lo: int, hi: int, keys_of: Any) -> Groups:
    ts = np.asarray(trades.local_ts[lo:hi], dtype=np.int64)
    ticks = grid.ticks(trades.price[lo:hi])
    lots = grid.lots(trades.amount[lo:hi])
    side = np.asarray(trades.side[lo:hi], dtype=np.int8)
    keys = ts // US if keys_of is None else keys_of(ts, np.arange(lo, hi, dtype=np.int64))
    return group_trades(ts, ticks, lots, side, keys, grid.ref_tick, row0=lo)


class FlowIndex:
    """The mapped 1-second table (``seconds``) of a trade stream, with its grid."""

    def __init__(self, trades: TradeColumns, grid: Grid, seconds: Groups, folder: Path | None) -> None:
        self.trades = trades
        self.grid = grid
        self.seconds = seconds
        self.folder = folder

    def __len__(self) -> int:
        return len(self.seconds)

    @property
    def span(self) -> tuple[int, int] | None:
        n = len(self.trades)
        if n == 0:
            return None
        return int(self.trades.local_ts[0]), int(self.trades.local_ts[n - 1])

    def segments(self, start: int, end: int) -> list[Groups]:
        """The trades with ``start <= local_ts <= end`` as 1-second groups: the stored whole
        seconds inside the range and the partial seconds at its edges built from the raw rows."""
        if end < start:
            return []
        first_full = -(-start // US)  # the first second that begins inside the range
        last_full = (end + 1) // US - 1  # the last second that ends inside it
        r0 = self.trades.count_before(start)
        r1 = self.trades.count_through(end)
        if first_full > last_full:
            return [raw_groups(self.trades, self.grid, r0, r1)]
        key = self.seconds.key
        lo = int(np.searchsorted(key, first_full, side="left"))
        hi = int(np.searchsorted(key, last_full, side="right"))
        inner_r0 = self.trades.count_before(first_full * US)
        inner_r1 = self.trades.count_through((last_full + 1) * US - 1)
        return [
            raw_groups(self.trades, self.grid, r0, inner_r0),
            self.seconds.slice(lo, hi),
            raw_groups(self.trades, self.grid, inner_r1, r1),
        ]


def flow_folder(sources: Sequence[Source]) -> Path | None:
    """Where the flow table of these trade files lives in the cache (None: not from the cache)."""
    from replayterm.core.replay.indexing import entry_stems

    stems = entry_stems(sources)
    if not stems:
        return None
    if len(stems) == 1:
        base = CacheEntry(Path(sources[0].path)).derived_dir
    else:
        base = cache_dir() / "sets" / hashlib.sha256("|".join(stems).encode()).hexdigest()[:20]
    return base / f"{PREFIX}v{FLOW_VERSION}"


def _key(trades: TradeColumns, tick_hint: float) -> dict[str, Any]:
    n = len(trades)
    span = [int(trades.local_ts[0]), int(trades.local_ts[n - 1])] if n else None
    return {"rows": n, "span": span, "tick_hint": tick_hint, "version": FLOW_VERSION}


def open_flow(
    trades: TradeColumns,
    sources: Sequence[Source] = (),
    *,
    tick_hint: float = 0.0,
    folder: Path | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> FlowIndex:
    """The flow table of ``trades``: mapped from the cache when built before, else built now
    (into the cache folder of ``sources``, or a private temporary folder)."""
    if folder is None:
        folder = flow_folder(sources) if sources else None
    key = _key(trades, tick_hint)
    if folder is not None:
        found = open_index(folder, key)
        if found is not None:
            arrays, meta = found
            return FlowIndex(trades, Grid(*meta["grid"]), Groups(**arrays), folder)
        remove_stale(folder, PREFIX)
    # the grid is read from every price and size once, when the table is built
    grid = detect_grid(trades.price, trades.amount, tick_hint)
    return _build(trades, grid, key, folder, progress, cancel)


def _build(
    trades: TradeColumns,
    grid: Grid,
    key: dict[str, Any],
    folder: Path | None,
    progress: ProgressFn | None,
    cancel: CancelFn | None,
) -> FlowIndex:
    n = len(trades)
    target = folder
    if target is None and n > WINDOW_ROWS:
        target = scratch_dir(trades, "replayterm-flow-") / "flow"
    store = ArrayStore(target)
    try:
        rows = {name: store.appender(name, np.int64) for name in ROW_FIELDS}
        cells = {name: store.appender(name, np.int64) for name in CELL_FIELDS}
        n_cells = 0
        for lo in range(0, n, WINDOW_ROWS):
            if cancel is not None and cancel():
                raise Cancelled("order-flow indexing cancelled")
            part = _window_groups(trades, grid, lo, min(lo + WINDOW_ROWS, n), None)
            part.cell_lo += n_cells
            n_cells += int(part.c_tick.shape[0])
            for name, app in rows.items():
                app.append(getattr(part, name))
            for name, app in cells.items():
                app.append(getattr(part, name))
            if progress is not None:
                progress(min(1.0, (lo + WINDOW_ROWS) / max(n, 1)), "indexing order flow")
        arrays = store.commit(key, {"grid": grid.key()})
    except BaseException:
        store.discard()
        raise
    return FlowIndex(trades, grid, Groups(**arrays), folder)


def describe(index: FlowIndex) -> dict[str, Any]:
    return {"seconds": len(index), "cells": int(index.seconds.c_tick.shape[0]), "folder": str(index.folder)}
