"""``FrameBuilder``: turns the cursor's current state into a ``Frame`` for the GUI (pure numpy).

The latest state (top levels, book statistics, clock) is read here; the appended streams are
collected by the ``Stream`` objects of the shown instrument (``streams``), each since the previous
frame or, after an open or seek (``reset=True``), as a backfill of the recent past.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from replayterm.core.book.book import STATS_DEPTH, Book
from replayterm.core.frames.frame import BookStats, Frame, OrderLevels, SideBook
from replayterm.core.frames.streams import streams_of
from replayterm.core.replay.cursor import ReplayCursor
from replayterm.core.replay.instruments import Instrument
from replayterm.core.replay.top_of_book import bbo_check_of

ORDER_SIZES = 16  # individual order sizes per level a frame carries (the ladder's tooltip)


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
        inst = cursor.instruments[instrument]
        self.streams = streams_of(cursor, instrument)
        self.tick_size = inst.tick_size
        self.size_decimals = inst.size_decimals
        self._resnapshot_groups = inst.resnapshot_groups  # a day's file opening is none
        self.second: int | None = None  # instrument index of the second ladder
        self._names = [i.name for i in cursor.instruments]
        # Market-by-order data: a private L3 book kept at the L2 book's position for the ladder.
        self._l3 = inst.orders.book() if inst.orders is not None and inst.book is not None else None
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
            top = book.top_stats(STATS_DEPTH)
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

        orders = None
        if self._l3 is not None and replayer is not None:
            self._l3.at_l2_rows(int(replayer.events.groups[0][replayer.position]))
            bc, bs = self._l3.orders_of_levels(1, bids[:, 0], ORDER_SIZES)
            ac, as_ = self._l3.orders_of_levels(-1, asks[:, 0], ORDER_SIZES)
            orders = OrderLevels(bc, bs, ac, as_)
        appended: dict[str, Any] = {stream.field: stream.collect(reset) for stream in self.streams}
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
            size_decimals=self.size_decimals,
            local_ts=now,
            exch_ts=exch_ts,
            start_ts=cursor.start_ts,
            end_ts=cursor.end_ts,
            bids=bids,
            asks=asks,
            stats=stats,
            playing=playing,
            speed=speed,
            events_per_s=events_per_s,
            lag_us=lag_us,
            events_applied=cursor.position,
            at_end=cursor.at_end,
            instrument=self.instrument,
            instruments=self._names,
            top_of_book_only=inst.top_of_book_only,
            bbo_check=self._bbo,
            second=second,
            unreliable=unreliable_text(inst, now),
            orders=orders,
            **appended,
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


def unreliable_text(inst: Instrument, now: int) -> str:
    """Why the instrument's book is not trustworthy at ``now`` ("" when it is)."""
    gap = inst.unreliable_at(now) if inst.sequence_gaps else None
    if gap is None:
        return ""
    return f"Book unreliable since a sequence gap: {gap.reason}. {gap.recovery[0].upper()}{gap.recovery[1:]}"
