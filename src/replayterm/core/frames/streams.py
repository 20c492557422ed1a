"""Appended streams of the shown instrument: each frame carries their rows since the previous
frame; after an open or seek (``reset``) a backfill of the recent past instead, so the tape and
charts show history at once.

A stream is one class implementing ``Stream``: the ``Frame`` field it fills, and ``collect``
(the rows since its last call, as a ``Batch``). ``STREAMS`` lists them; the builder creates the
ones an instrument has data for and the coalescer concatenates every field they fill.
How to add one: docs/architecture.md, "Frames".
"""

from __future__ import annotations

from typing import ClassVar, Protocol

import numpy as np

from replayterm.core.frames.batches import Batch, TickerSeries, TopSeries, TradeBatch
from replayterm.core.replay.cursor import EventKind, ReplayCursor

BACKFILL_TRADES = 2000
BACKFILL_SPAN_US = 10 * 60 * 1_000_000
MAX_SERIES_POINTS = 4000
MAX_TRADES_PER_FRAME = 5000


class Stream(Protocol):
    field: ClassVar[str]  # the ``Frame`` attribute this stream fills

    @classmethod
    def of(cls, cursor: ReplayCursor, instrument: int) -> Stream | None:
        """The stream of ``instrument``, or None when it has no such data."""
        ...

    def collect(self, reset: bool) -> Batch:
        """Rows since the previous call (a backfill when ``reset``)."""
        ...


class Trades:
    field: ClassVar[str] = "trades"

    def __init__(self, cursor: ReplayCursor, instrument: int) -> None:
        self.cursor, self.instrument = cursor, instrument
        self._mark = 0

    @classmethod
    def of(cls, cursor: ReplayCursor, instrument: int) -> Trades | None:
        return cls(cursor, instrument) if cursor.instruments[instrument].trades is not None else None

    def collect(self, reset: bool) -> TradeBatch:
        trades = self.cursor.instruments[self.instrument].trades
        assert trades is not None
        now = self.cursor.trades_applied(self.instrument)
        start = now - BACKFILL_TRADES if reset else self._mark
        self._mark = now
        return trades.batch(max(start, now - MAX_TRADES_PER_FRAME), now)


class TopOfBook:
    """Best bid/ask and touch imbalance after every message, recorded by the index pass.

    The recorded ranks and sizes stay where they are (mapped from the index on disk); prices and
    imbalance are computed only for the sampled messages a frame carries (at most
    ``MAX_SERIES_POINTS``, sampled back from the newest message so the last point is now)."""

    field: ClassVar[str] = "series"

    def __init__(self, cursor: ReplayCursor, instrument: int) -> None:
        replayer = cursor.instruments[instrument].book
        assert replayer is not None
        self.cursor, self.replayer = cursor, replayer
        self.group_ts = replayer.events.group_ts
        self.grid = np.append(replayer.events.prices, np.nan)  # rank -1 reads the NaN
        self._mark = 0

    @classmethod
    def of(cls, cursor: ReplayCursor, instrument: int) -> TopOfBook | None:
        return cls(cursor, instrument) if cursor.instruments[instrument].book is not None else None

    def collect(self, reset: bool) -> TopSeries:
        g1 = self.replayer.position
        if reset:
            g0 = int(np.searchsorted(self.group_ts, self.cursor.now - BACKFILL_SPAN_US, side="left"))
        else:
            g0 = self._mark
        self._mark = g1
        return self.series(g0, g1, MAX_SERIES_POINTS)

    def series(self, g0: int, g1: int, max_points: int) -> TopSeries:
        cps = self.replayer.checkpoints
        if cps is None or cps.best_idx is None or g1 <= g0:
            return TopSeries()
        step = max(1, (g1 - g0) // max_points)
        first = g1 - 1 - ((g1 - 1 - g0) // step) * step
        sl = slice(first, g1, step)
        idx = cps.best_idx[sl]
        bid, ask = self.grid[idx[:, 0]], self.grid[idx[:, 1]]
        if cps.best_amt is not None:
            amt = cps.best_amt[sl]
            total = amt[:, 0] + amt[:, 1]
            with np.errstate(invalid="ignore", divide="ignore"):
                imbalance = np.where(total > 0, (amt[:, 0] - amt[:, 1]) / total, np.nan)
        else:
            imbalance = np.full(idx.shape[0], np.nan)
        return TopSeries(np.asarray(self.group_ts[sl]), bid, ask, imbalance)


class Liquidations:
    field: ClassVar[str] = "liquidations"

    def __init__(self, cursor: ReplayCursor, instrument: int) -> None:
        self.cursor, self.instrument = cursor, instrument
        self._mark = 0

    @classmethod
    def of(cls, cursor: ReplayCursor, instrument: int) -> Liquidations | None:
        return cls(cursor, instrument) if cursor.instruments[instrument].liquidations is not None else None

    def collect(self, reset: bool) -> TradeBatch:
        s = self.cursor.instruments[self.instrument].liquidations
        assert s is not None
        n = self.cursor.applied(EventKind.LIQUIDATION, self.instrument)
        start = n - BACKFILL_TRADES if reset else self._mark
        self._mark = n
        sl = slice(max(start, n - MAX_TRADES_PER_FRAME, 0), max(n, 0))
        return TradeBatch(s.local_ts[sl], s.exch_ts[sl], s.price[sl], s.amount[sl], s.side[sl])


class Ticker:
    field: ClassVar[str] = "ticker"

    def __init__(self, cursor: ReplayCursor, instrument: int) -> None:
        self.cursor, self.instrument = cursor, instrument
        self._mark = 0

    @classmethod
    def of(cls, cursor: ReplayCursor, instrument: int) -> Ticker | None:
        return cls(cursor, instrument) if cursor.instruments[instrument].tickers is not None else None

    def collect(self, reset: bool) -> TickerSeries:
        s = self.cursor.instruments[self.instrument].tickers
        assert s is not None
        n = self.cursor.applied(EventKind.TICKER, self.instrument)
        start = n - MAX_SERIES_POINTS if reset else self._mark
        self._mark = n
        sl = slice(max(start, n - MAX_SERIES_POINTS, 0), max(n, 0))
        return TickerSeries(
            s.local_ts[sl],
            s.funding_rate[sl],
            s.predicted_funding_rate[sl],
            s.open_interest[sl],
            s.mark_price[sl],
            s.index_price[sl],
            s.last_price[sl],
            s.funding_timestamp[sl],
        )


STREAMS: tuple[type[Stream], ...] = (Trades, TopOfBook, Liquidations, Ticker)
STREAM_FIELDS: tuple[str, ...] = tuple(s.field for s in STREAMS)


def streams_of(cursor: ReplayCursor, instrument: int) -> list[Stream]:
    return [s for kind in STREAMS if (s := kind.of(cursor, instrument)) is not None]
