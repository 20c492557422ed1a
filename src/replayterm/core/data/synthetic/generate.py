"""``generate_files``: run the simulation chunk by chunk and stream the three Tardis files out.

The compiled kernel fills fresh column buffers while a writer thread formats and compresses the
previous chunk (both release the GIL), so generation uses two cores.
"""

from __future__ import annotations

import math
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from replayterm.core.data.synthetic import kernel, state
from replayterm.core.data.synthetic.params import SyntheticParams, decimal_scale
from replayterm.core.data.synthetic.writer import (
    BOOK_HEADER,
    BOOK_TICKER_HEADER,
    TRADES_HEADER,
    GzipCsvFile,
    TableMaker,
)
from replayterm.core.data.timefmt import parse_time

BOOK_CHUNK_ROWS = 1 << 18
TRADE_CHUNK_ROWS = 1 << 16
TICKER_CHUNK_ROWS = 1 << 16
DEFAULT_MINUTES = 10.0
_NO_LIMIT = np.iinfo(np.int64).max


@dataclass(frozen=True)
class GeneratedFiles:
    """What ``generate_files`` wrote. Times are µs since the epoch (receive time)."""

    book: Path
    trades: Path
    book_ticker: Path
    book_rows: int
    trade_rows: int
    book_ticker_rows: int
    book_messages: int
    snapshots: int
    first_local_ts: int
    last_local_ts: int

    @property
    def paths(self) -> tuple[Path, Path, Path]:
        return self.book, self.trades, self.book_ticker


@dataclass
class _Chunk:
    book: tuple[np.ndarray, ...]
    trades: tuple[np.ndarray, ...]
    ticker: tuple[np.ndarray, ...]

    @classmethod
    def allocate(cls) -> _Chunk:
        def cols(n: int, dtypes: tuple[type, ...]) -> tuple[np.ndarray, ...]:
            return tuple(np.empty(n, dtype=d) for d in dtypes)

        i8, i64 = np.int8, np.int64
        return cls(
            book=cols(BOOK_CHUNK_ROWS, (i64, i64, np.bool_, i8, i64, i64)),
            trades=cols(TRADE_CHUNK_ROWS, (i64, i64, i64, i8, i64, i64)),
            ticker=cols(TICKER_CHUNK_ROWS, (i64, i64, i64, i64, i64, i64)),
        )

    def trimmed(self, n_book: int, n_trades: int, n_ticker: int) -> _Chunk:
        return _Chunk(
            book=tuple(c[:n_book] for c in self.book),
            trades=tuple(c[:n_trades] for c in self.trades),
            ticker=tuple(c[:n_ticker] for c in self.ticker),
        )


def parse_start(start: str | datetime) -> int:
    """An ISO-8601 UTC string or a datetime (naive means UTC) -> µs since the epoch."""
    if isinstance(start, datetime):
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        delta = start - datetime(1970, 1, 1, tzinfo=UTC)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return parse_time(start)


def tardis_name(exchange: str, data_type: str, day: str, symbol: str) -> str:
    return f"{exchange}_{data_type}_{day}_{symbol}.csv.gz"


def _check_name(value: str, what: str) -> None:
    bad = set(value) & set(',"\r\n/\\ ')
    if not value or bad:
        raise ValueError(f"{what} must be non-empty without spaces, commas, quotes or slashes, got {value!r}")


def generate_files(
    out_dir: Path | str,
    *,
    minutes: float | None = None,
    seed: int = 7,
    symbol: str = "SYNTHUSD",
    exchange: str = "synthetic",
    start: str | datetime = "2024-01-02T00:00:00Z",
    target_book_rows: int | None = None,
    compresslevel: int = 6,
    params: SyntheticParams | None = None,
) -> GeneratedFiles:
    """Write one day's ``incremental_book_L2``, ``trades`` and ``book_ticker`` files for one symbol.

    The length is set by ``minutes`` of market time or by ``target_book_rows`` (stop at the first
    message that reaches that many L2 rows); with neither, ten minutes. The same arguments always
    give the same bytes. Files are named as Tardis names its downloads, after the start day; a
    run that goes past midnight UTC keeps going in the same files.
    """
    if minutes is not None and target_book_rows is not None:
        raise ValueError("give either minutes or target_book_rows, not both")
    if minutes is None and target_book_rows is None:
        minutes = DEFAULT_MINUTES
    if minutes is not None and not 0 < minutes < math.inf:
        raise ValueError(f"minutes must be a positive number, got {minutes}")
    if target_book_rows is not None and target_book_rows <= 0:
        raise ValueError(f"target_book_rows must be positive, got {target_book_rows}")
    if not 0 <= compresslevel <= 9:
        raise ValueError(f"compresslevel must be within 0..9, got {compresslevel}")
    _check_name(symbol, "symbol")
    _check_name(exchange, "exchange")
    params = params or SyntheticParams()
    start_us = parse_start(start)
    end_us = float(start_us + minutes * 60e6) if minutes is not None else np.inf
    max_rows = int(target_book_rows) if target_book_rows is not None else _NO_LIMIT

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    day = datetime.fromtimestamp(start_us / 1e6, tz=UTC).strftime("%Y-%m-%d")
    paths = [
        out / tardis_name(exchange, kind, day, symbol)
        for kind in ("incremental_book_L2", "trades", "book_ticker")
    ]
    maker = TableMaker(
        exchange,
        symbol,
        decimal_scale(params.tick_size, "tick_size"),
        decimal_scale(params.lot_size, "lot_size"),
    )

    rng = np.random.default_rng(seed)
    prm = params.to_array()
    amounts = np.zeros((2, state.BOOK_WIDTH), dtype=np.int64)
    ist = np.zeros(state.N_ISTATE, dtype=np.int64)
    fst = np.zeros(state.N_FSTATE, dtype=np.float64)
    kernel.init_state(rng, amounts, ist, fst, prm, float(start_us))

    first_local: int | None = None
    with (
        GzipCsvFile(paths[0], BOOK_HEADER, compresslevel) as book_file,
        GzipCsvFile(paths[1], TRADES_HEADER, compresslevel) as trades_file,
        GzipCsvFile(paths[2], BOOK_TICKER_HEADER, compresslevel) as ticker_file,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="synthetic-writer") as pool,
    ):

        def write(chunk: _Chunk) -> None:
            book_file.write(maker.book(*chunk.book))
            trades_file.write(maker.trades(*chunk.trades))
            ticker_file.write(maker.book_ticker(*chunk.ticker))

        pending: Future[None] | None = None
        book_rows = 0
        finished = False
        while not finished:
            chunk = _Chunk.allocate()
            n_book, n_trades, n_ticker, finished = kernel.run_chunk(
                rng,
                amounts,
                ist,
                fst,
                prm,
                end_us,
                max_rows,
                book_rows,
                *chunk.book,
                *chunk.trades,
                *chunk.ticker,
            )
            book_rows += n_book
            if first_local is None and n_book:
                first_local = int(chunk.book[1][0])
            if pending is not None:
                pending.result()
            pending = pool.submit(write, chunk.trimmed(n_book, n_trades, n_ticker))
        if pending is not None:
            pending.result()

    return GeneratedFiles(
        book=paths[0],
        trades=paths[1],
        book_ticker=paths[2],
        book_rows=book_file.rows,
        trade_rows=trades_file.rows,
        book_ticker_rows=ticker_file.rows,
        book_messages=int(ist[state.S_MESSAGES]),
        snapshots=int(ist[state.S_SNAPSHOTS]),
        first_local_ts=first_local if first_local is not None else start_us,
        last_local_ts=int(ist[state.S_LAST_LOCAL]),
    )
