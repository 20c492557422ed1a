"""``FrameBuilder``: turns the cursor's current state into a ``Frame`` for the GUI (pure numpy).

Appended streams are tracked per builder: each frame carries the trades and top-of-book samples
since the previous frame. After open or seek (``reset=True``) they are a backfill of the recent
past instead, so the tape and charts show history right away.
"""

from __future__ import annotations

import numpy as np

from replayterm.core.book.book import Book
from replayterm.core.replay.cursor import EventKind, ReplayCursor
from replayterm.core.replay.frame import BookStats, Frame, SideBook, TickerSeries, TopSeries, TradeBatch
from replayterm.core.replay.tickers import LiquidationStream, TickerStream
from replayterm.core.replay.top_of_book import bbo_check_of

BACKFILL_TRADES = 2000
BACKFILL_SPAN_US = 10 * 60 * 1_000_000
MAX_SERIES_POINTS = 4000
MAX_TRADES_PER_FRAME = 5000


class FrameBuilder:
    """``depth``: the top levels every frame carries. ``reach_ticks``: the frame also carries
    every level within that many ticks of the touch, so views that group prices into buckets
    (the ladder and heatmap group up to 100 ticks) get whole buckets however deep they reach;
    the GUI sets it from the coarsest grouping it shows."""

    def __init__(self, cursor: ReplayCursor, instrument: int = 0, depth: int = 200) -> None:
        self.cursor = cursor
        self.instrument = instrument
        self.depth = depth
        self.reach_ticks = 0
        self._trade_mark = 0
        self._group_mark = 0
        inst = cursor.instruments[instrument]
        self._top = _TopHistory(inst.book) if inst.book is not None else None
        self.tick_size = inst.tick_size
        self._resnapshot_groups = (
            inst.book.events.resnapshot_groups if inst.book is not None else np.empty(0, np.int64)
        )
        self._liq_mark = 0
        self._ticker_mark = 0
        self.second: int | None = None  # instrument index of the second ladder
        self._names = [i.name for i in cursor.instruments]
        check = bbo_check_of(inst)
        self._bbo = None if check is None else check.to_json()

    def frame(
        self,
        generation: int,
        *,
        reset: bool,
        playing: bool = False,
        speed: float = 1.0,
        events_per_s: float = 0.0,
        lag_us: int = 0,
    ) -> Frame:
        cursor = self.cursor
        inst = cursor.instruments[self.instrument]
        now = cursor.now
        replayer = inst.book
        stats = BookStats()
        bids = asks = np.empty((0, 2), dtype=np.float64)
        exch_ts = 0
        group = 0
        if replayer is not None:
            book = replayer.book
            reach = self.reach_ticks * self.tick_size if self.tick_size > 0 else 0.0
            bids = levels_within(book, 1, self.depth, reach)
            asks = levels_within(book, -1, self.depth, reach)
            top = book.top_stats(5)
            stats.best_bid, stats.best_ask = top.best_bid, top.best_ask
            stats.mid, stats.spread, stats.spread_bps = top.mid, top.spread, top.spread_bps
            stats.microprice, stats.imbalance = top.microprice, top.imbalance
            stats.bid_levels, stats.ask_levels = book.level_count(1), book.level_count(-1)
            stats.crossed_removals = book.crossed_removals
            stats.skipped_rows = replayer.skipped_rows
            group = replayer.position
            stats.resnapshots = int(np.searchsorted(self._resnapshot_groups, group, side="left"))
            if group > 0:
                ev = replayer.events
                exch_ts = int(ev.exch_ts[int(ev.group_start[group]) - 1])
        trades_now = cursor.trades_applied(self.instrument)
        if inst.trades is not None and trades_now > 0:
            exch_ts = max(exch_ts, int(inst.trades.exch_ts[trades_now - 1]))

        trades = TradeBatch()
        if inst.trades is not None:
            start = trades_now - BACKFILL_TRADES if reset else self._trade_mark
            start = max(start, trades_now - MAX_TRADES_PER_FRAME)
            trades = inst.trades.batch(start, trades_now)
        self._trade_mark = trades_now

        series = TopSeries()
        if self._top is not None:
            if reset:
                assert replayer is not None
                g0 = int(np.searchsorted(replayer.events.group_ts, now - BACKFILL_SPAN_US, side="left"))
            else:
                g0 = self._group_mark
            series = self._top.series(g0, group, MAX_SERIES_POINTS)
        self._group_mark = group

        liquidations = TradeBatch()
        if inst.liquidations is not None:
            n_liq = cursor.applied(EventKind.LIQUIDATION, self.instrument)
            start = n_liq - BACKFILL_TRADES if reset else self._liq_mark
            liquidations = _liq_batch(inst.liquidations, max(start, n_liq - MAX_TRADES_PER_FRAME), n_liq)
            self._liq_mark = n_liq
        ticker = TickerSeries()
        if inst.tickers is not None:
            n_tk = cursor.applied(EventKind.TICKER, self.instrument)
            start = n_tk - MAX_SERIES_POINTS if reset else self._ticker_mark
            ticker = _ticker_series(inst.tickers, max(start, n_tk - MAX_SERIES_POINTS), n_tk)
            self._ticker_mark = n_tk
        second = None
        if self.second is not None and 0 <= self.second < len(cursor.instruments):
            other = cursor.instruments[self.second]
            if other.book is not None:
                ob = other.book.book
                second = SideBook(
                    other.name, other.tick_size, ob.levels(1, self.depth), ob.levels(-1, self.depth)
                )
            else:
                empty = np.empty((0, 2), dtype=np.float64)
                second = SideBook(other.name, other.tick_size, empty, empty)

        return Frame(
            generation=generation,
            reset=reset,
            symbol=inst.name,
            tick_size=self.tick_size,
            local_ts=now,
            exch_ts=exch_ts,
            start_ts=cursor.start_ts,
            end_ts=cursor.end_ts,
            bids=bids,
            asks=asks,
            stats=stats,
            trades=trades,
            series=series,
            playing=playing,
            speed=speed,
            events_per_s=events_per_s,
            lag_us=lag_us,
            events_applied=cursor.position,
            at_end=cursor.at_end,
            liquidations=liquidations,
            ticker=ticker,
            instrument=self.instrument,
            instruments=self._names,
            top_of_book_only=inst.top_of_book_only,
            bbo_check=self._bbo,
            second=second,
        )


def levels_within(book: Book, side: int, n: int, reach: float) -> np.ndarray:
    """The top ``n`` levels of ``side``, plus every further level priced within ``reach`` of the
    touch; (k, 2) price/amount, best first. Reads the dense per-rank arrays of the book directly:
    the levels in a price range are a slice of them."""
    top = book.levels(side, n)
    if reach <= 0 or top.shape[0] < n:
        return top  # no reach asked, or the whole side is already there
    prices = book.prices
    best, last = float(top[0, 0]), float(top[-1, 0])
    last_rank = int(prices.searchsorted(last))
    if side > 0:
        lo = int(prices.searchsorted(best - reach * (1 + 1e-12), side="left"))
        if lo >= last_rank:
            return top
        amounts = book.bid[lo:last_rank]
        nz = np.flatnonzero(amounts)[::-1]  # descending prices: best first
        more = np.column_stack((prices[lo + nz], amounts[nz]))
    else:
        hi = int(prices.searchsorted(best + reach * (1 + 1e-12), side="right"))
        if hi <= last_rank + 1:
            return top
        amounts = book.ask[last_rank + 1 : hi]
        nz = np.flatnonzero(amounts)
        more = np.column_stack((prices[last_rank + 1 + nz], amounts[nz]))
    return np.concatenate((top, more)) if more.shape[0] else top


def _liq_batch(s: LiquidationStream, start: int, stop: int) -> TradeBatch:
    sl = slice(max(start, 0), max(stop, 0))
    return TradeBatch(s.local_ts[sl], s.exch_ts[sl], s.price[sl], s.amount[sl], s.side[sl])


def _ticker_series(s: TickerStream, start: int, stop: int) -> TickerSeries:
    sl = slice(max(start, 0), max(stop, 0))
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


class _TopHistory:
    """Best bid/ask and touch imbalance after every message, recorded by the index pass.

    The recorded ranks and sizes stay where they are (mapped from the index on disk); prices and
    imbalance are computed only for the sampled messages a frame carries.
    """

    def __init__(self, replayer: object) -> None:
        from replayterm.core.book import BookReplayer

        assert isinstance(replayer, BookReplayer)
        self.group_ts = replayer.events.group_ts
        self.grid = np.append(replayer.events.prices, np.nan)  # rank -1 reads the NaN
        self.replayer = replayer

    def series(self, g0: int, g1: int, max_points: int) -> TopSeries:
        cps = self.replayer.checkpoints
        if cps is None or cps.best_idx is None or g1 <= g0:
            return TopSeries()
        step = max(1, (g1 - g0) // max_points)
        # Sample backwards from the newest message so the last point is always the current state.
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
