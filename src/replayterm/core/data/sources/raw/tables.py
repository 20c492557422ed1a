"""Normalized rows of a raw recording, collected per (exchange, symbol, kind) and turned into the
same Arrow tables (``model.SCHEMAS``) the CSV readers produce.

Rows are appended to typed ``array`` buffers (no Python object per row survives the message); a
receive time that steps back is raised to the running maximum of its stream, like the CSV path.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from replayterm.core.data.model import SCHEMAS, Kind


@dataclass
class _Columns:
    kind: Kind
    local: array = field(default_factory=lambda: array("q"))
    exch: array = field(default_factory=lambda: array("q"))
    a: array = field(default_factory=lambda: array("d"))  # price | bid_price
    b: array = field(default_factory=lambda: array("d"))  # amount | bid_amount
    c: array = field(default_factory=lambda: array("d"))  # ask_price
    d: array = field(default_factory=lambda: array("d"))  # ask_amount
    side: array = field(default_factory=lambda: array("b"))
    snap: array = field(default_factory=lambda: array("b"))
    ids: list[str] = field(default_factory=list)
    last_local: int = -(2**63)
    clamped: int = 0

    def stamp(self, local: int) -> int:
        if local < self.last_local:
            self.clamped += 1
            return self.last_local
        self.last_local = local
        return local


class RawTables:
    """Collects rows; ``tables()`` returns ``{(exchange, symbol, kind): pa.Table}``."""

    def __init__(self) -> None:
        self._cols: dict[tuple[str, str, Kind], _Columns] = {}

    def _get(self, exchange: str, symbol: str, kind: Kind) -> _Columns:
        key = (exchange, symbol, kind)
        cols = self._cols.get(key)
        if cols is None:
            cols = self._cols[key] = _Columns(kind)
        return cols

    def book(
        self,
        exchange: str,
        symbol: str,
        local: int,
        exch: int,
        bids: list[list[str]],
        asks: list[list[str]],
        snapshot: bool,
    ) -> None:
        """One book message: ``[price, amount]`` text pairs per side (amount 0 deletes)."""
        cols = self._get(exchange, symbol, Kind.BOOK)
        local = cols.stamp(local)
        n = len(bids) + len(asks)
        if n == 0:
            return
        cols.local.extend([local] * n)
        cols.exch.extend([exch] * n)
        cols.side.extend([1] * len(bids))
        cols.side.extend([-1] * len(asks))
        for level in bids:
            cols.a.append(float(level[0]))
            cols.b.append(float(level[1]))
        for level in asks:
            cols.a.append(float(level[0]))
            cols.b.append(float(level[1]))
        cols.snap.extend([1 if snapshot else 0] * n)

    def trade(
        self,
        exchange: str,
        symbol: str,
        local: int,
        exch: int,
        side: int,
        price: float,
        amount: float,
        ident: str,
    ) -> None:
        cols = self._get(exchange, symbol, Kind.TRADES)
        cols.local.append(cols.stamp(local))
        cols.exch.append(exch)
        cols.side.append(side)
        cols.a.append(price)
        cols.b.append(amount)
        cols.ids.append(ident)

    def quote(
        self,
        exchange: str,
        symbol: str,
        local: int,
        exch: int,
        bid: tuple[float, float],
        ask: tuple[float, float],
    ) -> None:
        cols = self._get(exchange, symbol, Kind.BOOK_TICKER)
        cols.local.append(cols.stamp(local))
        cols.exch.append(exch)
        cols.a.append(bid[0])
        cols.b.append(bid[1])
        cols.c.append(ask[0])
        cols.d.append(ask[1])

    def clamped(self, exchange: str, symbol: str, kind: Kind) -> int:
        cols = self._cols.get((exchange, symbol, kind))
        return 0 if cols is None else cols.clamped

    def tables(self) -> dict[tuple[str, str, Kind], pa.Table]:
        out = {}
        for (exchange, symbol, kind), cols in self._cols.items():
            n = len(cols.local)
            if n == 0:
                continue
            out[(exchange, symbol, kind)] = _table(exchange, symbol, kind, cols, n)
        return out


def _label(name: str, n: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int16)), pa.array([name]))


def _np(buf: array, dtype: str) -> np.ndarray:
    return np.frombuffer(buf, dtype=dtype) if len(buf) else np.zeros(0, dtype)


def _table(exchange: str, symbol: str, kind: Kind, cols: _Columns, n: int) -> pa.Table:
    schema = SCHEMAS[kind]
    head = [
        _label(exchange, n),
        _label(symbol, n),
        pa.array(_np(cols.local, "i8")),
        pa.array(_np(cols.exch, "i8")),
    ]
    if kind is Kind.BOOK:
        body = [
            pa.array(_np(cols.side, "i1")),
            pa.array(_np(cols.a, "f8")),
            pa.array(_np(cols.b, "f8")),
            pa.array(_np(cols.snap, "i1").astype(bool)),
        ]
    elif kind is Kind.TRADES:
        body = [
            pa.array(_np(cols.side, "i1")),
            pa.array(_np(cols.a, "f8")),
            pa.array(_np(cols.b, "f8")),
            pa.array(cols.ids, pa.string()),
        ]
    else:
        body = [pa.array(_np(x, "f8")) for x in (cols.a, cols.b, cols.c, cols.d)]
    return pa.Table.from_arrays(head + body, schema=schema)
