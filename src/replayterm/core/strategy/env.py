"""``ReplayEnv``: the read-only replay data a strategy run needs, prepared once per session.

The timeline as numpy columns, which stream is which instrument's book or trades, the books and
their per-message step functions, and per-instrument trade views. Built from a ``ReplayCursor``,
which stays the owner of the books' positions between runs.
"""

from __future__ import annotations

from collections.abc import Callable

from replayterm.core.book.book import Book
from replayterm.core.replay.cursor import EventKind, ReplayCursor
from replayterm.core.replay.tickers import FundingEvent, LiquidationView, TickerView
from replayterm.core.strategy.context import InstrumentInfo, MarketBook, TradeView

_TRADE_CACHE = 8192  # trades converted to Python numbers at a time


class ReplayEnv:
    def __init__(self, cursor: ReplayCursor, sample_interval_us: int) -> None:
        if sample_interval_us <= 0:
            raise ValueError(f"sample interval must be > 0 µs, got {sample_interval_us}")
        self.cursor = cursor
        self.instruments = cursor.instruments
        tl = cursor.timeline
        self.ts = tl.ts
        self.stream = tl.stream
        self.item = tl.item
        self.n_events = len(tl)
        self.start_clock = cursor.start_ts - 1 if self.n_events else 0
        self.end_ts = cursor.end_ts
        self.sample_us = int(sample_interval_us)
        # Streams in the order the cursor built the timeline (book, trades, then the other types).
        self.stream_kind: list[EventKind] = [kind for kind, _ in cursor.owners]
        self.stream_book: list[bool] = [kind is EventKind.BOOK for kind in self.stream_kind]
        self.stream_trade: list[bool] = [kind is EventKind.TRADE for kind in self.stream_kind]
        self.stream_inst: list[int] = [i for _, i in cursor.owners]
        n = len(self.instruments)
        self.infos = [
            InstrumentInfo(inst.exchange, inst.symbol, inst.name, inst.tick_size) for inst in self.instruments
        ]
        self.books: list[Book | None] = [
            None if inst.book is None else inst.book.book for inst in self.instruments
        ]
        # What strategies get: the books' queries only (see ``MarketBook``).
        self.views: list[MarketBook | None] = [
            None if b is None else MarketBook(b, self.infos[i]) for i, b in enumerate(self.books)
        ]
        self.book_steps: list[Callable[[], int] | None] = [
            None if inst.book is None else inst.book.step for inst in self.instruments
        ]
        self.seen = [0] * n  # trades of each instrument behind the replay (for ctx.recent_trades)
        self.trade_views = [TradeView(self.infos[i]) for i in range(n)]
        self.ticker_views = [TickerView(self.infos[i]) for i in range(n)]
        self.liquidation_views = [LiquidationView(self.infos[i]) for i in range(n)]
        self._trade_cache: list[tuple[int, int, list, list, list, list, list] | None] = [None] * n

    def next_sample_after(self, position: int) -> int:
        """The sampling grid point after the last applied event (0: sample at the first event)."""
        if position == 0:
            return 0
        step = self.sample_us
        return int(self.ts[position - 1]) // step * step + step

    def sync_cursor(self, position: int, now: int) -> None:
        """After a run stepped the books to ``position`` itself: bring the cursor's counters and
        clock along (cheap, unless the run started or stopped between events of one time)."""
        cursor = self.cursor
        if now > cursor.now and position == cursor.timeline.position_at(now):
            cursor.advance_to(now)
        elif position != cursor.position or now != cursor.now:
            cursor.seek_position(position)
            if now > cursor.now:
                cursor.advance_to(now)

    def sync_seen(self) -> None:
        for i in range(len(self.instruments)):
            self.seen[i] = self.cursor.trades_applied(i)

    def trade(self, i: int, item: int) -> TradeView:
        """Trade ``item`` of instrument ``i`` loaded into that instrument's reusable view."""
        cache = self._trade_cache[i]
        if cache is None or not cache[0] <= item < cache[1]:
            trades = self.instruments[i].trades
            assert trades is not None
            stop = min(item + _TRADE_CACHE, len(trades))
            cache = self._trade_cache[i] = (
                item,
                stop,
                trades.local_ts[item:stop].tolist(),
                trades.exch_ts[item:stop].tolist(),
                trades.side[item:stop].tolist(),
                trades.price[item:stop].tolist(),
                trades.amount[item:stop].tolist(),
            )
        k = item - cache[0]
        view = self.trade_views[i]
        view.local_ts = cache[2][k]
        view.exch_ts = cache[3][k]
        view.side = cache[4][k]
        view.price = cache[5][k]
        view.amount = cache[6][k]
        return view

    def ticker(self, i: int, item: int) -> TickerView:
        tickers = self.instruments[i].tickers
        assert tickers is not None
        return self.ticker_views[i].load(tickers, item)

    def liquidation(self, i: int, item: int) -> LiquidationView:
        liquidations = self.instruments[i].liquidations
        assert liquidations is not None
        return self.liquidation_views[i].load(liquidations, item)

    def funding(self, i: int, item: int) -> FundingEvent:
        return self.cursor.funding[i][item]
