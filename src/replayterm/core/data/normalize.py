"""Raw Tardis-named batches -> normalized batches (model.py schemas), validated column-wise.

Works on whole Arrow columns with pyarrow.compute / numpy; a problem is reported as the first
offending row of the batch (``RowError``), which the caller turns into a ``DataError`` with
the file's line number.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from replayterm.core.data.fast_parse import Parsed
from replayterm.core.data.layout import Layout, level_columns
from replayterm.core.data.model import ASK, BID, BUY, SCHEMAS, SELL, UNKNOWN_SIDE, Kind

BOOK_SIDES: Mapping[str, int] = {"bid": BID, "ask": ASK}
TRADE_SIDES: Mapping[str, int] = {"buy": BUY, "sell": SELL, "unknown": UNKNOWN_SIDE}

_DICT32 = pa.dictionary(pa.int32(), pa.string())


def raw_types(layout: Layout) -> dict[str, pa.DataType]:
    """The Arrow type each raw (Tardis-named) column is read as."""
    types: dict[str, pa.DataType] = {}
    for name in layout.columns:
        if name in ("exchange", "symbol", "side"):
            types[name] = _DICT32
        elif name in ("timestamp", "local_timestamp", "funding_timestamp"):
            types[name] = pa.int64()
        elif name == "is_snapshot":
            types[name] = pa.bool_()
        elif name == "id":
            types[name] = pa.string()
        else:
            types[name] = pa.float64()
    return types


class RowError(Exception):
    """A bad value at ``row`` (0-based data row of the batch); the reader adds file and line."""

    def __init__(self, row: int, column: str, value: str | None, explanation: str, hint: str) -> None:
        super().__init__(explanation)
        self.row = row
        self.column = column
        self.value = value
        self.explanation = explanation
        self.hint = hint[:1].upper() + hint[1:]


def _first_true(mask: pa.Array | pa.ChunkedArray) -> int:
    index = pc.index(pc.fill_null(mask, False), True).as_py()
    return -1 if index is None else int(index)


def _shown(value: object) -> str:
    if isinstance(value, float):
        return repr(value)
    return "" if value is None else str(value)


def _require(col: pa.Array, name: str) -> None:
    if col.null_count:
        row = _first_true(pc.is_null(col))
        raise RowError(row, name, "", "missing value", "every line needs this column filled in")


def _check_float(
    col: pa.Array, name: str, *, required: bool, non_negative: bool, positive: bool = False
) -> None:
    if required:
        _require(col, name)
    if not pc.all(pc.is_finite(col)).as_py():
        row = _first_true(pc.invert(pc.is_finite(col)))
        if row >= 0:
            raise RowError(
                row,
                name,
                _shown(col[row].as_py()),
                "not a finite number",
                "prices and amounts must be finite",
            )
    if non_negative and pc.any(pc.less(col, 0.0)).as_py():
        row = _first_true(pc.less(col, 0.0))
        raise RowError(
            row,
            name,
            _shown(col[row].as_py()),
            "negative amount",
            "amounts are sizes and cannot be negative; fix or remove the line",
        )
    if positive:
        not_positive = pc.less_equal(col, 0.0)
        if pc.any(not_positive).as_py():
            row = _first_true(not_positive)
            raise RowError(
                row,
                name,
                _shown(col[row].as_py()),
                "price is not positive",
                "a price must be greater than zero; fix or remove the line",
            )


def side_codes(col: pa.Array, allowed: Mapping[str, int], name: str = "side") -> pa.Array:
    """Side text (dictionary-encoded) or integers -> int8 codes; unknown values raise RowError."""
    accepted = ", ".join(allowed)
    hint = f"{name} must be one of: {accepted}"
    _require(col, name)
    if pa.types.is_integer(col.type):
        ok = pc.is_in(col, value_set=pa.array(sorted(set(allowed.values())), col.type))
        if not pc.all(ok).as_py():
            row = _first_true(pc.invert(ok))
            raise RowError(row, name, _shown(col[row].as_py()), f"unknown {name}", hint)
        return pc.cast(col, pa.int8())
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    lookup = [allowed.get(str(v).strip().lower()) for v in col.dictionary.to_pylist()]
    bad = [i for i, code in enumerate(lookup) if code is None]
    if bad:
        used_bad = pc.is_in(col.indices, value_set=pa.array(bad, col.indices.type))
        row = _first_true(used_bad)
        if row >= 0:
            raise RowError(row, name, _shown(col[row].as_py()), f"unknown {name}", hint)
    table = pa.array([0 if code is None else code for code in lookup], pa.int8())
    return pc.take(table, col.indices)


class Normalizer:
    """Normalizes the batches of one file; keeps exchange/symbol codes stable across batches."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.schema = SCHEMAS[layout.kind]
        self._values: dict[str, list[str]] = {"exchange": [], "symbol": []}
        self._codes: dict[str, dict[str, int]] = {"exchange": {}, "symbol": {}}
        self._dicts: dict[str, pa.Array] = {}
        # book_snapshot_N: how many book rows each file row of the last batch became.
        self.last_counts: np.ndarray | None = None

    @property
    def exchanges(self) -> list[str]:
        return self._values["exchange"]

    @property
    def symbols(self) -> list[str]:
        return self._values["symbol"]

    def dictionary(self, name: str) -> pa.Array:
        """The exchange or symbol values seen so far; codes index into it."""
        return self._dictionary(name)

    def _dictionary(self, name: str) -> pa.Array:
        values = self._values[name]
        current = self._dicts.get(name)
        if current is None or len(current) != len(values):
            current = self._dicts[name] = pa.array(values, pa.string())
        return current

    def codes(self, col: pa.Array, name: str) -> pa.Array:
        """Global int16 codes of a dictionary-encoded exchange/symbol column."""
        _require(col, name)
        if not pa.types.is_dictionary(col.type):
            col = pc.dictionary_encode(col)
        codes = self._codes[name]
        lookup = np.empty(len(col.dictionary), np.int16)
        for i, value in enumerate(col.dictionary.to_pylist()):
            code = codes.get(value)
            if code is None:
                if not value.strip():
                    row = _first_true(pc.equal(col.indices, i))
                    raise RowError(row, name, value, "missing value", f"every line needs a {name}")
                if len(codes) >= np.iinfo(np.int16).max:
                    raise RowError(0, name, value, f"too many distinct {name} values", "split the file")
                code = codes[value] = len(codes)
                self._values[name].append(value)
            lookup[i] = code
        if np.array_equal(lookup, np.arange(lookup.size)):
            return pc.cast(col.indices, pa.int16())  # the usual case: one symbol, already code 0
        return pc.take(pa.array(lookup), col.indices)

    def adopt(self, parsed: Parsed) -> pa.RecordBatch:
        """A block the compiled parsers read (already checked): its codes made the file's."""
        exchange = self._file_codes(parsed.exchange, parsed.exchange_values, "exchange")
        symbol = self._file_codes(parsed.symbol, parsed.symbol_values, "symbol")
        self.last_counts = parsed.counts
        head = [self._dict_array(exchange, "exchange"), self._dict_array(symbol, "symbol")]
        return pa.RecordBatch.from_arrays([*head, *parsed.columns], schema=self.schema)

    def _file_codes(self, local: np.ndarray, values: list[str], name: str) -> pa.Array:
        codes = self._codes[name]
        lookup = np.empty(len(values), np.int16)
        for i, value in enumerate(values):
            code = codes.get(value)
            if code is None:
                if len(codes) >= np.iinfo(np.int16).max:
                    raise RowError(0, name, value, f"too many distinct {name} values", "split the file")
                code = codes[value] = len(codes)
                self._values[name].append(value)
            lookup[i] = code
        if np.array_equal(lookup, np.arange(lookup.size)):
            return pa.array(local)
        return pa.array(lookup[local])

    def normalize(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        kind = self.layout.kind
        exchange = self.codes(batch.column("exchange"), "exchange")
        symbol = self.codes(batch.column("symbol"), "symbol")
        local_ts = batch.column("local_timestamp")
        exch_ts = batch.column("timestamp")
        _require(local_ts, "local_timestamp")
        _require(exch_ts, "timestamp")
        if kind is Kind.BOOK_SNAPSHOT:
            return self._snapshot(batch, exchange, symbol, local_ts, exch_ts)
        head = [self._dict_array(exchange, "exchange"), self._dict_array(symbol, "symbol"), local_ts, exch_ts]
        if kind in (Kind.BOOK, Kind.TRADES, Kind.LIQUIDATIONS):
            price, amount = batch.column("price"), batch.column("amount")
            _check_float(price, "price", required=True, non_negative=False, positive=True)
            _check_float(amount, "amount", required=True, non_negative=True)
            if kind is Kind.BOOK:
                side = side_codes(batch.column("side"), BOOK_SIDES)
                is_snapshot = batch.column("is_snapshot")
                _require(is_snapshot, "is_snapshot")
                rest = [side, price, amount, is_snapshot]
            else:
                side = side_codes(batch.column("side"), TRADE_SIDES)
                ids = batch.column("id")
                if not pa.types.is_string(ids.type):
                    ids = pc.cast(ids, pa.string())
                rest = [side, price, amount, pc.fill_null(ids, "")]
        elif kind in (Kind.QUOTES, Kind.BOOK_TICKER):
            rest = []
            for name in ("bid_price", "bid_amount", "ask_price", "ask_amount"):
                col = batch.column(name)
                amount = name.endswith("amount")
                _check_float(col, name, required=False, non_negative=amount, positive=not amount)
                rest.append(pc.fill_null(col, np.nan))
        else:  # derivative_ticker: empty cells stay null
            rest = [batch.column("funding_timestamp")]
            for name in self.schema.names[5:]:
                col = batch.column(name)
                _check_float(col, name, required=False, non_negative=False, positive=name.endswith("_price"))
                rest.append(col)
        return pa.RecordBatch.from_arrays([*head, *rest], schema=self.schema)

    def _dict_array(self, codes: pa.Array | np.ndarray, name: str) -> pa.DictionaryArray:
        indices = codes if isinstance(codes, pa.Array) else pa.array(codes, pa.int16())
        return pa.DictionaryArray.from_arrays(indices, self._dictionary(name))

    def _snapshot(
        self,
        batch: pa.RecordBatch,
        exchange: pa.Array,
        symbol: pa.Array,
        local_ts: pa.Array,
        exch_ts: pa.Array,
    ) -> pa.RecordBatch:
        depth = self.layout.snapshot_depth or 0
        names = level_columns(depth)
        width = 2 * depth  # levels per CSV row: asks[0], bids[0], asks[1], ...
        rows = batch.num_rows
        prices = np.empty((rows, width), np.float64)
        amounts = np.empty((rows, width), np.float64)
        for j in range(width):
            price_name, amount_name = names[2 * j], names[2 * j + 1]
            price, amount = batch.column(price_name), batch.column(amount_name)
            _check_float(price, price_name, required=False, non_negative=False, positive=True)
            _check_float(amount, amount_name, required=False, non_negative=True)
            if price.null_count != amount.null_count or price.null_count:
                half = pc.xor(pc.is_null(price), pc.is_null(amount))
                row = _first_true(half)
                if row >= 0:
                    which = amount_name if amount[row].as_py() is None else price_name
                    raise RowError(
                        row,
                        which,
                        "",
                        "level has a price or an amount but not both",
                        "fill in both or neither",
                    )
            prices[:, j] = price.to_numpy(zero_copy_only=False)
            amounts[:, j] = amount.to_numpy(zero_copy_only=False)
        present = ~np.isnan(prices.ravel())
        self.last_counts = present.reshape(rows, width).sum(axis=1)
        sides = np.tile(np.array([ASK, BID] * depth, np.int8), rows)[present]
        arrays = [
            self._dict_array(np.repeat(exchange.to_numpy(), width)[present], "exchange"),
            self._dict_array(np.repeat(symbol.to_numpy(), width)[present], "symbol"),
            pa.array(np.repeat(local_ts.to_numpy(), width)[present]),
            pa.array(np.repeat(exch_ts.to_numpy(), width)[present]),
            pa.array(sides),
            pa.array(prices.ravel()[present]),
            pa.array(amounts.ravel()[present]),
            pa.array(np.ones(int(present.sum()), np.bool_)),
        ]
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)
