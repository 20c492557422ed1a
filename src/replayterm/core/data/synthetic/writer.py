"""Columnar chunks -> gzip-compressed Tardis CSV files, byte-for-byte reproducible.

Each chunk becomes an Arrow table (constant columns dictionary-encoded, prices and amounts as
exact decimals) written by ``pyarrow.csv.write_csv`` and compressed with one zlib stream per
file (gzip header with no timestamp, so equal input gives equal bytes).
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from types import TracebackType

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

BOOK_HEADER = ("exchange", "symbol", "timestamp", "local_timestamp", "is_snapshot", "side", "price", "amount")
TRADES_HEADER = ("exchange", "symbol", "timestamp", "local_timestamp", "id", "side", "price", "amount")
BOOK_TICKER_HEADER = (
    "exchange",
    "symbol",
    "timestamp",
    "local_timestamp",
    "ask_amount",
    "ask_price",
    "bid_price",
    "bid_amount",
)

_WRITE_OPTIONS = pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=65536)
_BOOK_SIDES = pa.array(["bid", "ask"])
_TAKER_SIDES = pa.array(["buy", "sell"])


def to_decimal(units: np.ndarray, scale: tuple[int, int]) -> np.ndarray:
    """Integer multiples of a step ``mantissa / 10**exponent`` -> the nearest doubles.

    ``(units * mantissa) / 10**exponent`` is exact up to the final, correctly rounded division,
    so the result is the double that prints as the short decimal (40000.1, 0.005).
    """
    mantissa, exponent = scale
    return (units.astype(np.float64) * mantissa) / (10.0**exponent)


def _constant(value: str, n: int) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int8)), pa.array([value]))


def _coded(codes: np.ndarray, names: pa.Array) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(codes, type=pa.int8()), names)


class GzipCsvFile:
    """One ``.csv.gz`` written through a temporary name and moved into place on ``close``."""

    def __init__(self, path: Path, header: tuple[str, ...], compresslevel: int) -> None:
        self.path = path
        self.rows = 0
        self._part = path.with_name(path.name + ".part")
        self._fh = open(self._part, "wb")  # noqa: SIM115 - closed in close()/abort()
        self._zlib = zlib.compressobj(compresslevel, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        self._fh.write(self._zlib.compress((",".join(header) + "\n").encode("ascii")))

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        sink = pa.BufferOutputStream()
        pacsv.write_csv(table, sink, _WRITE_OPTIONS)
        self._fh.write(self._zlib.compress(memoryview(sink.getvalue())))
        self.rows += table.num_rows

    def close(self) -> None:
        self._fh.write(self._zlib.flush())
        self._fh.close()
        os.replace(self._part, self.path)

    def abort(self) -> None:
        self._fh.close()
        self._part.unlink(missing_ok=True)

    def __enter__(self) -> GzipCsvFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


class TableMaker:
    """Builds the three Tardis tables from the kernel's integer columns."""

    def __init__(self, exchange: str, symbol: str, tick: tuple[int, int], lot: tuple[int, int]) -> None:
        self.exchange = exchange
        self.symbol = symbol
        self.tick = tick
        self.lot = lot

    def book(
        self,
        ex: np.ndarray,
        lo: np.ndarray,
        snap: np.ndarray,
        side: np.ndarray,
        px: np.ndarray,
        amt: np.ndarray,
    ) -> pa.Table:
        n = len(ex)
        return pa.table(
            [
                _constant(self.exchange, n),
                _constant(self.symbol, n),
                pa.array(ex),
                pa.array(lo),
                pa.array(snap),
                _coded(side, _BOOK_SIDES),
                pa.array(to_decimal(px, self.tick)),
                pa.array(to_decimal(amt, self.lot)),
            ],
            names=list(BOOK_HEADER),
        )

    def trades(
        self,
        ex: np.ndarray,
        lo: np.ndarray,
        ids: np.ndarray,
        side: np.ndarray,
        px: np.ndarray,
        amt: np.ndarray,
    ) -> pa.Table:
        n = len(ex)
        return pa.table(
            [
                _constant(self.exchange, n),
                _constant(self.symbol, n),
                pa.array(ex),
                pa.array(lo),
                pa.array(ids),
                _coded(side, _TAKER_SIDES),
                pa.array(to_decimal(px, self.tick)),
                pa.array(to_decimal(amt, self.lot)),
            ],
            names=list(TRADES_HEADER),
        )

    def book_ticker(
        self,
        ex: np.ndarray,
        lo: np.ndarray,
        bid_px: np.ndarray,
        bid_amt: np.ndarray,
        ask_px: np.ndarray,
        ask_amt: np.ndarray,
    ) -> pa.Table:
        n = len(ex)
        return pa.table(
            [
                _constant(self.exchange, n),
                _constant(self.symbol, n),
                pa.array(ex),
                pa.array(lo),
                pa.array(to_decimal(ask_amt, self.lot)),
                pa.array(to_decimal(ask_px, self.tick)),
                pa.array(to_decimal(bid_px, self.tick)),
                pa.array(to_decimal(bid_amt, self.lot)),
            ],
            names=list(BOOK_TICKER_HEADER),
        )
