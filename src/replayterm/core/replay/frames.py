"""``FrameBuilder``: turns the cursor's current state into a ``Frame`` for the GUI (pure numpy).

Appended streams are tracked per builder: each frame carries the trades and top-of-book samples
since the previous frame. After open or seek (``reset=True``) they are a backfill of the recent
past instead, so the tape and charts show history right away.
"""

from __future__ import annotations

import numpy as np

from replayterm.core.replay.cursor import ReplayCursor
from replayterm.core.replay.frame import BookStats, Frame, TopSeries, TradeBatch

BACKFILL_TRADES = 2000
BACKFILL_SPAN_US = 10 * 60 * 1_000_000
MAX_SERIES_POINTS = 4000
MAX_TRADES_PER_FRAME = 5000


class FrameBuilder:
    def __init__(self, cursor: ReplayCursor, instrument: int = 0, depth: int = 200) -> None:
        self.cursor = cursor
        self.instrument = instrument
        self.depth = depth
        self._trade_mark = 0
        self._group_mark = 0
        inst = cursor.instruments[instrument]
        self._top = _TopHistory(inst.book) if inst.book is not None else None
        self.tick_size = inst.tick_size
        self._gaps = int(cursor.gaps().shape[0])

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
        stats = BookStats(gaps=self._gaps)
        bids = asks = np.empty((0, 2), dtype=np.float64)
        exch_ts = 0
        group = 0
        if replayer is not None:
            book = replayer.book
            bids = book.levels(1, self.depth)
            asks = book.levels(-1, self.depth)
            top = book.top_stats(5)
            stats.best_bid, stats.best_ask = top.best_bid, top.best_ask
            stats.mid, stats.spread, stats.spread_bps = top.mid, top.spread, top.spread_bps
            stats.microprice, stats.imbalance = top.microprice, top.imbalance
            stats.bid_levels, stats.ask_levels = book.level_count(1), book.level_count(-1)
            stats.crossed_removals = book.crossed_removals
            stats.skipped_rows = replayer.skipped_rows
            group = replayer.position
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
