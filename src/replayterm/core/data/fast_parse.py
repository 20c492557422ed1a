"""The compiled parsers of ``tardis_kernels`` applied to blocks of decoded bytes.

``FastParser.for_layout`` returns a parser only when a file's header is exactly the Tardis header
of its type (same names, same order, no byte-order mark). ``parse`` turns one block (whole lines,
ending with ``\\n``) into a ``Parsed``: the columns of the cache schema after exchange and symbol,
plus block-local exchange/symbol codes with their values (the normalizer maps them to the file's
codes). ``None`` means a row of the block does not fit; the caller gives the block to the general
reader, which produces the same values or the precise error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from replayterm.core.data import tardis_kernels as tk
from replayterm.core.data.layout import COMMON, SPECIFIC, Layout, level_columns
from replayterm.core.data.model import Kind

# Per trailing field of the wide layouts, in file order: what the kernel checks.
_QUOTE_CHECKS = (tk.NON_NEGATIVE, tk.POSITIVE, tk.POSITIVE, tk.NON_NEGATIVE)  # ask_amount..bid_amount
_DERIVATIVE_CHECKS = (tk.OPTIONAL_INT, tk.ANY, tk.ANY, tk.ANY, tk.POSITIVE, tk.POSITIVE, tk.POSITIVE)


def tardis_header(layout: Layout) -> tuple[str, ...]:
    """The header Tardis writes for the layout's type."""
    if layout.kind is Kind.BOOK_SNAPSHOT:
        return (*COMMON, *level_columns(layout.snapshot_depth or 0))
    return (*COMMON, *SPECIFIC[layout.kind])


@dataclass
class Parsed:
    """One block's rows in the cache schema, exchange/symbol as block-local codes."""

    file_rows: int
    exchange: np.ndarray  # int16 block-local codes, one per output row
    exchange_values: list[str]
    symbol: np.ndarray
    symbol_values: list[str]
    columns: list[pa.Array]  # the schema's columns from local_ts on
    counts: np.ndarray | None = None  # book_snapshot_N: output rows per file row

    @property
    def num_rows(self) -> int:
        return len(self.exchange)


@dataclass
class ParserCounts:
    """Blocks of a file read by the compiled parser and handed over to the general reader."""

    compiled: int = 0
    general: int = 0

    @property
    def label(self) -> str:
        if not self.general:
            return "compiled"
        if not self.compiled:
            return "general (no block fitted the compiled parser)"
        return f"compiled ({self.general} of {self.compiled + self.general} blocks general)"


class FastParser:
    """Parses blocks of one exact Tardis layout; blocks may be parsed in several threads at once
    (the kernels release the GIL)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.kind = layout.kind
        self.fields = len(layout.columns)

    @classmethod
    def for_layout(cls, layout: Layout, header: Sequence[str], first_line: bytes) -> FastParser | None:
        """A parser if the file's first line is exactly the Tardis header of the layout."""
        wanted = tardis_header(layout)
        if tuple(header) != wanted or first_line != ",".join(wanted).encode("ascii"):
            return None
        if layout.columns != wanted or layout.file_columns != wanted:
            return None
        return cls(layout)

    def parse(self, block: np.ndarray) -> Parsed | None:
        """The rows of ``block`` (uint8, whole lines, ends with ``\\n``), or None if one does not fit."""
        if block.size == 0:
            return None
        tables = np.zeros((2, tk.MAX_DISTINCT, 2), np.int64)  # exchange, symbol: (start, length)
        state = np.zeros(4, np.int64)
        # Every field takes at least one byte (its separator), so this bounds the rows; np.empty
        # only reserves the pages, the kernel touches those of the rows it writes.
        bound = block.size // self.fields + 1
        exchange = np.empty(bound, np.int16)
        symbol = np.empty(bound, np.int16)
        exch_ts = np.empty(bound, np.int64)
        local_ts = np.empty(bound, np.int64)
        kind = self.kind
        counts = None
        if kind in (Kind.BOOK, Kind.TRADES, Kind.LIQUIDATIONS):
            trades = kind is not Kind.BOOK
            side = np.empty(bound, np.int8)
            price = np.empty(bound, np.float64)
            amount = np.empty(bound, np.float64)
            flags = np.empty(0 if trades else bound, np.bool_)
            offsets = np.zeros(bound + 1 if trades else 1, np.int32)
            ids = np.empty(block.size if trades else 0, np.uint8)
            rows = tk.parse_book_or_trades(
                block, trades, tk.POW10, tables, state, exchange, symbol, exch_ts,
                local_ts, side, price, amount, flags, offsets, ids,
            )  # fmt: skip
            if rows < 0:
                return None
            tail: list[pa.Array] = [pa.array(side[:rows]), pa.array(price[:rows]), pa.array(amount[:rows])]
            if trades:
                used = int(offsets[rows])
                tail.append(
                    pa.Array.from_buffers(
                        pa.string(), rows, [None, pa.py_buffer(offsets[: rows + 1]), pa.py_buffer(ids[:used])]
                    )
                )
            else:
                tail.append(pa.array(flags[:rows]))
            head = [pa.array(local_ts[:rows]), pa.array(exch_ts[:rows])]
            columns = head + tail
        elif kind is Kind.BOOK_SNAPSHOT:
            levels = 2 * (self.layout.snapshot_depth or 0)
            counts = np.empty(bound, np.int64)
            made_rows = np.zeros(1, np.int64)
            out = bound * levels
            side = np.empty(out, np.int8)
            price = np.empty(out, np.float64)
            amount = np.empty(out, np.float64)
            rows = tk.parse_snapshot(
                block, levels, tk.POW10, tables, state, exchange, symbol, exch_ts,
                local_ts, counts, side, price, amount, made_rows,
            )  # fmt: skip
            if rows < 0:
                return None
            made = int(made_rows[0])
            counts = counts[:rows]
            exchange = np.repeat(exchange[:rows], counts)
            symbol = np.repeat(symbol[:rows], counts)
            columns = [
                pa.array(np.repeat(local_ts[:rows], counts)),
                pa.array(np.repeat(exch_ts[:rows], counts)),
                pa.array(side[:made]),
                pa.array(price[:made]),
                pa.array(amount[:made]),
                pa.array(np.ones(made, np.bool_)),
            ]
            return _parsed(block, tables, state, rows, exchange, symbol, columns, counts)
        else:
            derivative = kind is Kind.DERIVATIVE_TICKER
            checks = np.array(_DERIVATIVE_CHECKS if derivative else _QUOTE_CHECKS, np.int64)
            width = checks.size
            values = np.empty((width, bound), np.float64)
            integers = np.empty((width if derivative else 0, bound), np.int64)
            valid = np.empty((width, bound), np.bool_)
            rows = tk.parse_wide(
                block, checks, tk.POW10, tables, state, exchange, symbol, exch_ts,
                local_ts, values, integers, valid,
            )  # fmt: skip
            if rows < 0:
                return None
            head = [pa.array(local_ts[:rows]), pa.array(exch_ts[:rows])]
            if derivative:
                columns = [*head, _nullable(integers[0, :rows], valid[0, :rows])]
                columns += [_nullable(values[j, :rows], valid[j, :rows]) for j in range(1, width)]
            else:  # file order ask_amount, ask_price, bid_price, bid_amount; empty -> NaN
                columns = head + [pa.array(values[j, :rows]) for j in (2, 3, 1, 0)]
        return _parsed(block, tables, state, rows, exchange[:rows], symbol[:rows], columns, counts)


def _parsed(
    block: np.ndarray,
    tables: np.ndarray,
    state: np.ndarray,
    rows: int,
    exchange: np.ndarray,
    symbol: np.ndarray,
    columns: list[pa.Array],
    counts: np.ndarray | None,
) -> Parsed:
    exchanges = _values(block, tables[0], int(state[0]))
    symbols = _values(block, tables[1], int(state[2]))
    return Parsed(rows, exchange, exchanges, symbol, symbols, columns, counts)


def _values(block: np.ndarray, table: np.ndarray, count: int) -> list[str]:
    return [block[int(s) : int(s + n)].tobytes().decode("ascii") for s, n in table[:count]]


def _nullable(values: np.ndarray, valid: np.ndarray) -> pa.Array:
    if bool(valid.all()):
        return pa.array(values)
    return pa.array(values, mask=~valid)


_WARM_ROWS = {
    Kind.BOOK: "e,s,1,2,true,bid,1.5,2\n",
    Kind.TRADES: "e,s,1,2,i,buy,1.5,2\n",
    Kind.QUOTES: "e,s,1,2,1,2,1,1\n",
    Kind.DERIVATIVE_TICKER: "e,s,1,2,,0.1,0.1,5,1,1,1\n",
    Kind.BOOK_SNAPSHOT: "e,s,1,2,2,1,1,1\n",
}


def warm_up() -> None:
    """Load the compiled parsers from numba's disk cache (about 0.1 s each per process)."""
    for kind, row in _WARM_ROWS.items():
        depth = 1 if kind is Kind.BOOK_SNAPSHOT else None
        columns = (*COMMON, *(level_columns(1) if depth else SPECIFIC[kind]))
        FastParser(Layout(kind, columns, depth)).parse(np.frombuffer(bytearray(row.encode()), np.uint8))
