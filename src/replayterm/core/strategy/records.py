"""What a strategy run leaves behind, as append-only columns a GUI can read incrementally.

Every log hands out ``since(k)``: the rows ``[k, len)`` as a ``RecordChunk`` whose ``end`` is the
``k`` to ask for next time. Numbers live in growing numpy columns (amortised O(1) appends, no
object per row); only free text (signal kinds, their metadata, log lines) is kept as Python
objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from replayterm.core.execution.orders import Fill, Liquidity

_MIN_CAPACITY = 64


@dataclass(frozen=True, slots=True)
class RecordChunk:
    """Rows ``[start, end)`` of a log: ``columns[name]`` is a numpy array (or a list for text)."""

    start: int
    end: int
    columns: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.end - self.start

    def __getitem__(self, name: str) -> Any:
        return self.columns[name]


class NumericLog:
    """Rows of numbers with fixed named columns and dtypes, stored column-wise."""

    __slots__ = ("_cols", "_n", "dtypes", "names")

    def __init__(self, names: Sequence[str], dtypes: Sequence[Any]) -> None:
        self.names = tuple(names)
        self.dtypes = tuple(np.dtype(d) for d in dtypes)
        self._cols = [np.empty(_MIN_CAPACITY, dtype=d) for d in self.dtypes]
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, *values: float) -> None:
        n = self._n
        cols = self._cols
        if n == cols[0].shape[0]:
            cols = self._cols = [np.concatenate((c, np.empty_like(c))) for c in cols]
        for col, value in zip(cols, values, strict=True):
            col[n] = value
        self._n = n + 1

    def column(self, name: str) -> np.ndarray:
        """A read-only view of the rows so far (valid until the next append)."""
        view = self._cols[self.names.index(name)][: self._n]
        view.flags.writeable = False
        return view

    def since(self, start: int = 0) -> RecordChunk:
        start = min(max(int(start), 0), self._n)
        stop = self._n
        return RecordChunk(
            start,
            stop,
            {name: col[start:stop].copy() for name, col in zip(self.names, self._cols, strict=True)},
        )

    def last(self, name: str) -> float | None:
        return None if self._n == 0 else self._cols[self.names.index(name)][self._n - 1].item()


class SignalLog:
    """``ctx.signal(kind, strength, **meta)`` records: time, kind, strength, the instrument's mid
    at that time (``price``: where a chart draws the marker) and metadata."""

    __slots__ = ("_kind", "_meta", "_nums")

    def __init__(self) -> None:
        self._nums = NumericLog(("ts", "strength", "price"), (np.int64, np.float64, np.float64))
        self._kind: list[str] = []
        self._meta: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self._nums)

    def append(self, ts: int, kind: str, strength: float, price: float, meta: dict[str, Any]) -> None:
        self._nums.append(ts, strength, price)
        self._kind.append(kind)
        self._meta.append(meta)

    def since(self, start: int = 0) -> RecordChunk:
        chunk = self._nums.since(start)
        chunk.columns["kind"] = self._kind[chunk.start : chunk.end]
        chunk.columns["meta"] = self._meta[chunk.start : chunk.end]
        return chunk


class PlotLog:
    """``ctx.plot(series, value)`` records: one (ts, value) log per series, in first-use order."""

    __slots__ = ("_series",)

    def __init__(self) -> None:
        self._series: dict[str, NumericLog] = {}

    def append(self, ts: int, series: str, value: float) -> None:
        log = self._series.get(series)
        if log is None:
            log = self._series[series] = NumericLog(("ts", "value"), (np.int64, np.float64))
        log.append(ts, value)

    def names(self) -> list[str]:
        return list(self._series)

    def sizes(self) -> dict[str, int]:
        return {name: len(log) for name, log in self._series.items()}

    def since(self, start: dict[str, int] | None = None) -> dict[str, RecordChunk]:
        """Per series, the points after ``start[series]`` (0 for series not in ``start``)."""
        start = start or {}
        return {name: log.since(start.get(name, 0)) for name, log in self._series.items()}


class TextLog:
    """``ctx.log(msg)`` lines with their simulated time; keeps at most ``limit`` lines."""

    __slots__ = ("dropped", "limit", "lines")

    def __init__(self, limit: int = 100_000) -> None:
        self.lines: list[tuple[int, str]] = []
        self.limit = limit
        self.dropped = 0

    def __len__(self) -> int:
        return len(self.lines)

    def append(self, ts: int, text: str) -> None:
        if len(self.lines) >= self.limit:
            self.dropped += 1
            return
        self.lines.append((ts, text))

    def since(self, start: int = 0) -> RecordChunk:
        start = min(max(int(start), 0), len(self.lines))
        rows = self.lines[start:]
        return RecordChunk(start, len(self.lines), {"ts": [t for t, _ in rows], "text": [m for _, m in rows]})


EQUITY_COLUMNS = (
    "ts",
    "position",
    "avg_price",
    "realized",
    "unrealized",
    "fees",
    "net",
    "equity",
    "mark",
    "funding",  # funding received so far (negative: paid); included in net and equity
)


def equity_log() -> NumericLog:
    """Account samples: position, PnL parts (quote currency) and the mark they were valued at."""
    return NumericLog(EQUITY_COLUMNS, (np.int64, *([np.float64] * (len(EQUITY_COLUMNS) - 1))))


def fill_chunk(fills: list[Fill], start: int = 0) -> RecordChunk:
    """Fills ``[start, len)`` of an account as columns. ``ts`` is when the strategy heard of the
    fill (``local_ts``); ``exch_ts`` when it happened at the simulated exchange."""
    start = min(max(int(start), 0), len(fills))
    rows = fills[start:]
    return RecordChunk(
        start,
        start + len(rows),
        {
            "ts": np.array([f.local_ts for f in rows], dtype=np.int64),
            "exch_ts": np.array([f.exch_ts for f in rows], dtype=np.int64),
            "order_id": np.array([f.order_id for f in rows], dtype=np.int64),
            "side": np.array([f.side for f in rows], dtype=np.int8),
            "price": np.array([f.price for f in rows], dtype=np.float64),
            "amount": np.array([f.amount for f in rows], dtype=np.float64),
            "fee": np.array([f.fee for f in rows], dtype=np.float64),
            "maker": np.array([f.liquidity is Liquidity.MAKER for f in rows], dtype=bool),
            "leaves": np.array([f.leaves for f in rows], dtype=np.float64),
        },
    )
