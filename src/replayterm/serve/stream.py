"""One client's replay: normalized messages in receive-time order, produced a chunk at a time.

A ``ReplayStream`` keeps its own position in every market it serves (its own ``BookReplayer``
per computed snapshot kind, positions in the trade and ticker columns), so clients never share
mutable state and each can pause, seek and subscribe on its own. ``next_chunk(until)`` encodes
every message received before ``until`` (at most about ``budget`` per stream) into JSON texts,
merged by ``(receive time, stream, item)``: at equal times trades come before book messages,
and computed messages follow the book message that produced them, as tardis-node's
``compute`` does. ``seek(t)`` restarts every market at ``t`` with a fresh book snapshot
(a ``book_change`` with ``isSnapshot: true`` holding the whole book) and fresh computations.

Chunks are pure CPU work over immutable shared data: the server runs them on worker threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from replayterm.core.book.interval_snapshots import SnapshotState
from replayterm.core.replay.computed_snapshots import SnapshotCursor, SnapshotRows
from replayterm.serve import encode as enc
from replayterm.serve.catalog import BookData, Market, Prints
from replayterm.serve.options import DataTypes, Request, Selection, SnapshotSpec, TradeBarSpec
from replayterm.serve.trade_bars import TradeBarState, compute_bars

DEFAULT_BUDGET = 32_768
END = np.iinfo(np.int64).max

# Stream order at equal receive times within one market.
_TRADES, _LIQUIDATIONS, _DERIVATIVE, _BOOK, _TICKER = 0, 1, 2, 3, 4
_STREAMS = 5


@dataclass
class _SnapshotFeed:
    spec: SnapshotSpec
    cursor: SnapshotCursor


@dataclass
class _Feed:
    """One market of one selection, with its own positions."""

    market: Market
    types: DataTypes
    with_disconnects: bool
    order: int
    symbol_json: str
    exchange_json: str
    from_ts: int
    to_ts: int
    trade_pos: int = 0
    liq_pos: int = 0
    deriv_pos: int = 0
    ticker_pos: int = 0
    opening_snapshot: bool = False  # begin with the book when starting inside the data
    group_pos: int = 0
    snapshots: list[_SnapshotFeed] = field(default_factory=list)
    bars: list[TradeBarState] = field(default_factory=list)
    started: bool = True  # False while the replay is before this options object's "from"
    subs: dict[str, int] = field(default_factory=dict)  # computed type -> its stable sub-order

    def stream_id(self, kind: int) -> int:
        return self.order * _STREAMS + kind

    def serves(self, kind: int, sub: int) -> bool:
        """Whether a line of this feed's ``kind`` stream and ``sub``-order is still subscribed."""
        t = self.types
        if kind == _TRADES:
            return t.trade if sub == 0 else any(self.subs[b.spec.name] == sub for b in self.bars)
        if kind == _BOOK:
            if sub == 0:
                return self.with_disconnects
            if sub == 1:
                return t.book_change
            return any(self.subs[sn.spec.name] == sub for sn in self.snapshots)
        return {_LIQUIDATIONS: t.liquidation, _DERIVATIVE: t.derivative_ticker, _TICKER: t.book_ticker}[kind]


class ReplayStream:
    """``budget``: messages per stream per chunk at most; ``max_bytes``: aim chunks at about that
    many bytes of JSON (the budget follows the size of the messages seen so far)."""

    def __init__(self, request: Request, budget: int = DEFAULT_BUDGET, max_bytes: int | None = None) -> None:
        self.request = request
        self.budget = budget
        self.max_budget = budget
        self.max_bytes = max_bytes
        if max_bytes is not None:
            self.budget = min(budget, 256)
        self._feed_ids = 0
        self.feeds: list[_Feed] = []
        self.position_ts = request.from_ts  # every message received before this was produced
        self.messages = 0
        self._opening: list[enc.Lines] = []
        for selection in request.selections:
            for market in selection.markets:
                self._add_feed(selection, market)
        self._restart(request.from_ts, opening=None)

    # -- subscriptions -------------------------------------------------------------------------

    def _add_feed(self, selection: Selection, market: Market) -> _Feed:
        self._feed_ids += 1
        feed = _Feed(
            market,
            selection.types,
            selection.with_disconnects,
            self._feed_ids,
            enc.json_string(market.symbol),
            enc.json_string(market.exchange),
            self.request.from_ts if selection.from_ts is None else selection.from_ts,
            self.request.to_ts if selection.to_ts is None else selection.to_ts,
            opening_snapshot=selection.opening_snapshot,
        )
        if market.book is not None:
            for spec in selection.types.snapshots:
                state = SnapshotState(spec.depth, spec.interval_ms * 1000, spec.grouping)
                cursor = SnapshotCursor(market.book.replayer(), state, market.book.group_exch_ts)
                feed.snapshots.append(_SnapshotFeed(spec, cursor))
        feed.bars = [TradeBarState(spec) for spec in selection.types.trade_bars]
        feed.subs = {s.spec.name: 2 + k for k, s in enumerate(feed.snapshots)}
        feed.subs.update({b.spec.name: 1 + k for k, b in enumerate(feed.bars)})
        self.feeds.append(feed)
        return feed

    def subscribe(self, selection: Selection, since: int | None = None) -> enc.Lines:
        """Add markets/data types from now on (a fresh snapshot first for books).

        ``since`` (before the position): the new types start there instead, and their messages
        up to the position are returned, to be merged with lines produced but not yet sent.
        """
        since = self.position_ts if since is None else min(since, self.position_ts)
        added: list[enc.Lines] = []
        for market in selection.markets:
            existing = [f for f in self.feeds if f.market is market]
            merged = selection.types
            for f in existing:
                merged = _merge_types(f.types, merged)
                self.feeds.remove(f)
            feed = self._add_feed(
                Selection(selection.exchange, [market], merged, selection.with_disconnects), market
            )
            opening = self._start_feed(feed, since, with_book=True)
            if since < self.position_ts:
                added += opening + self._feed_chunk(feed, since, self.position_ts)
            else:
                self._opening += opening
        return enc.merge(added)

    def still_subscribed(self, lines: enc.Lines) -> np.ndarray:
        """Which of ``lines`` (produced earlier) the current subscriptions still want."""
        keep = np.zeros(len(lines), dtype=bool)
        if not len(lines):
            return keep
        feeds = {f.order: f for f in self.feeds}
        pairs = np.unique(np.stack([lines.stream, lines.sub.astype(np.int32)]), axis=1)
        for stream, sub in pairs.T.tolist():
            feed = feeds.get(stream // _STREAMS)
            if feed is not None and feed.serves(stream % _STREAMS, sub):
                keep |= (lines.stream == stream) & (lines.sub == sub)
        return keep

    def unsubscribe(self, markets: list[Market] | None, names: list[str] | None) -> None:
        """Stop markets (all their types) or only some data types (of all or the given markets)."""
        for feed in list(self.feeds):
            if markets is not None and feed.market not in markets:
                continue
            if names is None:
                self.feeds.remove(feed)
                continue
            kept = _drop_types(feed.types, names)
            feed.types = kept
            feed.snapshots = [s for s in feed.snapshots if s.spec.name not in names]
            feed.bars = [b for b in feed.bars if b.spec.name not in names]
            if not kept.names:
                self.feeds.remove(feed)

    def subscriptions(self) -> list[str]:
        return [f"{f.market.exchange}:{f.market.symbol} {','.join(f.types.names)}" for f in self.feeds]

    # -- moving --------------------------------------------------------------------------------

    @property
    def at_end(self) -> bool:
        return self.position_ts >= self.request.to_ts and not self._opening

    def seek(self, ts: int) -> None:
        """Restart at receive time ``ts``: the next messages are those received from then on,
        after the book at that moment (a ``book_change`` snapshot, fresh computed snapshots)."""
        self._restart(ts, opening=True)

    def _restart(self, ts: int, opening: bool | None) -> None:
        ts = min(max(ts, self.request.from_ts), self.request.to_ts)
        self.position_ts = ts
        self._opening = []
        for feed in self.feeds:
            self._opening += self._start_feed(feed, ts, opening)

    def _start_feed(self, feed: _Feed, ts: int, with_book: bool | None = None) -> list[enc.Lines]:
        """Positions at ``ts`` (within the feed's own range); returns the opening messages.

        ``with_book`` None: as the request asked (tardis-dev sends no book before the recording's
        next snapshot; ``openingSnapshot`` asks for the book at ``ts``); True after a seek.
        """
        with_opening = feed.opening_snapshot if with_book is None else with_book
        feed.started = ts >= feed.from_ts
        ts = min(max(ts, feed.from_ts), feed.to_ts)  # each options object keeps its own range
        opening: list[enc.Lines] = []
        m = feed.market
        feed.trade_pos = m.trades.count_before(ts) if m.trades is not None else 0
        feed.liq_pos = m.liquidations.count_before(ts) if m.liquidations is not None else 0
        if m.derivative is not None:
            feed.deriv_pos = int(np.searchsorted(m.derivative.column("local_ts").to_numpy(), ts, side="left"))
        feed.ticker_pos = m.tickers.count_before(ts) if m.tickers is not None else 0
        for bar in feed.bars:
            bar.reset()
        if m.book is None or not feed.started:
            return opening
        ev = m.book.events
        g = m.book.groups_before(ts)
        feed.group_pos = max(g, ev.first_snapshot_group)
        if not with_opening and g > ev.first_snapshot_group:
            # Like tardis-dev without a snapshot in its window: nothing of the book until the
            # next re-snapshot of the recording.
            later = m.book.disconnect_groups
            later = later[later >= g]
            feed.group_pos = int(later[0]) if later.shape[0] else ev.n_groups
            for snap in feed.snapshots:
                snap.cursor.start(feed.group_pos, ts)
            return opening
        if feed.types.book_change and g > ev.first_snapshot_group:
            opening.append(self._opening_book_change(feed, g, ts))
        for snap in feed.snapshots:
            rows = snap.cursor.start(g, ts)
            if len(rows):
                sub = feed.subs[snap.spec.name]
                opening.append(self._snapshot_lines(feed, snap.spec, rows, sub, item=-1))
        return opening

    def next_chunk(self, until: int = END) -> enc.Lines:
        """The messages received in ``[position, min(until, to))``, bounded by the budget."""
        parts, self._opening = self._opening, []
        stop = min(until, self.request.to_ts)
        if stop > self.position_ts:
            hi = min(stop, self._chunk_end())
            for feed in self.feeds:
                parts.extend(self._feed_chunk(feed, self.position_ts, hi))
            self.position_ts = hi
        lines = enc.merge(parts)
        self.messages += len(lines)
        if self.max_bytes is not None and len(lines):
            per_message = max(lines.nbytes / len(lines), 1.0)
            streams = max(1, sum(len(f.types.names) for f in self.feeds))
            self.budget = int(min(self.max_budget, max(16, self.max_bytes / per_message / streams)))
        return lines

    def _chunk_end(self) -> int:
        """A receive time such that each stream has at most about ``budget`` messages before it."""
        ends = [END]
        b = self.budget
        for feed in self.feeds:
            m = feed.market
            t = feed.types
            cols = []
            if m.book is not None and (t.needs_book or feed.with_disconnects):
                cols.append((m.book.events.group_ts, feed.group_pos))
            if m.trades is not None and (t.trade or feed.bars):
                cols.append((m.trades.local_ts, feed.trade_pos))
            if m.liquidations is not None and t.liquidation:
                cols.append((m.liquidations.local_ts, feed.liq_pos))
            if m.derivative is not None and t.derivative_ticker:
                cols.append((m.derivative.column("local_ts").to_numpy(), feed.deriv_pos))
            if m.tickers is not None and t.book_ticker:
                cols.append((m.tickers.local_ts, feed.ticker_pos))
            if feed.to_ts <= self.position_ts:
                continue  # this options object's range is over
            for ts, pos in cols:
                if pos + b < ts.shape[0] and int(ts[pos + b]) > self.position_ts:
                    ends.append(int(ts[pos + b]))
        return max(min(ends), self.position_ts + 1)

    # -- one market's chunk --------------------------------------------------------------------

    def _feed_chunk(self, feed: _Feed, lo: int, hi: int) -> list[enc.Lines]:
        m, t = feed.market, feed.types
        out: list[enc.Lines] = []
        hi = min(hi, feed.to_ts)
        if hi <= feed.from_ts:
            return out
        if not feed.started:  # this options object's range begins inside this chunk
            out += self._start_feed(feed, feed.from_ts)
        if m.trades is not None and (t.trade or feed.bars):
            end = m.trades.count_before(hi)
            start, feed.trade_pos = feed.trade_pos, end
            if end > start:
                if t.trade:
                    out.append(self._prints(feed, m.trades, start, end, "trade", _TRADES))
                # Bars restart at disconnects too (after the trades received up to them).
                cuts = []
                if feed.bars and feed.with_disconnects and m.book is not None:
                    g_lo, g_hi = m.book.groups_before(lo), m.book.groups_before(hi)
                    for g in self._restarts(feed, g_lo, g_hi):
                        at = int(np.searchsorted(m.trades.local_ts, m.book.events.group_ts[g], side="right"))
                        cuts.append(min(max(at, start), end))
                for k, bar in enumerate(feed.bars):
                    first = start
                    for cut in cuts:
                        out.extend(self._bars(feed, bar, m.trades, first, cut, k))
                        bar.reset()
                        first = cut
                    out.extend(self._bars(feed, bar, m.trades, first, end, k))
        if m.liquidations is not None and t.liquidation:
            end = m.liquidations.count_before(hi)
            start, feed.liq_pos = feed.liq_pos, end
            if end > start:
                out.append(self._prints(feed, m.liquidations, start, end, "liquidation", _LIQUIDATIONS))
        if m.derivative is not None and t.derivative_ticker:
            ts = m.derivative.column("local_ts").to_numpy()
            end = int(np.searchsorted(ts, hi, side="left"))
            start, feed.deriv_pos = feed.deriv_pos, end
            if end > start:
                out.append(self._derivative(feed, start, end))
        if m.tickers is not None and t.book_ticker:
            end = m.tickers.count_before(hi)
            start, feed.ticker_pos = feed.ticker_pos, end
            if end > start:
                out.append(self._tickers(feed, start, end))
        if m.book is not None and (t.needs_book or feed.with_disconnects):
            g_end = m.book.groups_before(hi)
            g0 = feed.group_pos
            feed.group_pos = max(g_end, g0)
            if g_end > g0:
                if t.book_change:
                    out.append(self._book_changes(feed, g0, g_end))
                if feed.with_disconnects:
                    out.append(self._disconnects(feed, g0, g_end))
                # tardis-node restarts its computations at a disconnect: the first row then comes
                # right after the re-snapshot, and a bucket open before the disconnect writes nothing.
                restarts = self._restarts(feed, g0, g_end) if feed.with_disconnects else []
                for snap in feed.snapshots:
                    parts = []
                    for g in restarts:
                        parts += snap.cursor.run_to(g, max_rows=self.budget)
                        snap.cursor.state.reset()
                    parts += snap.cursor.run_to(g_end, max_rows=self.budget)
                    rows = SnapshotRows.concat(parts, 2 * snap.spec.depth)
                    if len(rows):
                        out.append(self._snapshot_lines(feed, snap.spec, rows, feed.subs[snap.spec.name]))
        return out

    @staticmethod
    def _restarts(feed: _Feed, g0: int, g1: int) -> list[int]:
        book = feed.market.book
        assert book is not None
        groups = book.disconnect_groups
        return [int(g) for g in groups[(groups >= g0) & (groups < g1)]]

    def _prefix(self, feed: _Feed, kind: str) -> str:
        return f'{{"type":"{kind}","symbol":{feed.symbol_json},"exchange":{feed.exchange_json},'

    @staticmethod
    def _times(
        pool: enc.Pool, exch: np.ndarray, local: np.ndarray, exch_ms: bool
    ) -> list[tuple[int, int] | enc.Piece]:
        return [
            pool.literal(',"timestamp":'),
            enc.timestamps(pool, exch, exch_ms),
            pool.literal(',"localTimestamp":'),
            enc.timestamps(pool, local),
            pool.literal("}"),
        ]

    def _prints(self, feed: _Feed, p: Prints, start: int, end: int, kind: str, stream: int) -> enc.Lines:
        pool = enc.Pool()
        s = slice(start, end)
        n = end - start
        ids, has_id = enc.strings(pool, p.id.slice(start, n))
        side = p.side[s]
        buy, sell, unknown = pool.literal('"buy"'), pool.literal('"sell"'), pool.literal('"unknown"')
        side_piece = (
            np.where(side > 0, buy[0], np.where(side < 0, sell[0], unknown[0])),
            np.where(side > 0, buy[1], np.where(side < 0, sell[1], unknown[1])),
        )
        text = enc.assemble(pool, n, [
            pool.literal(self._prefix(feed, kind)),
            enc.choose(has_id, pool.literal('"id":"'), (0, 0)), ids,
            enc.choose(has_id, pool.literal('",'), (0, 0)),
            pool.literal('"price":'), enc.numbers(pool, p.price[s]),
            pool.literal(',"amount":'), enc.numbers(pool, p.amount[s]),
            pool.literal(',"side":'), side_piece,
            *self._times(pool, p.exch_ts[s], p.local_ts[s], p.exch_ms),
        ])  # fmt: skip
        return enc.Lines.make(text, p.local_ts[s], feed.stream_id(stream), np.arange(start, end))

    def _tickers(self, feed: _Feed, start: int, end: int) -> enc.Lines:
        """``book_ticker`` in tardis-node's key order; an absent side's fields are left out."""
        k = feed.market.tickers
        assert k is not None
        s = slice(start, end)
        pool = enc.Pool()
        pieces: list[tuple[int, int] | enc.Piece] = [pool.literal(self._prefix(feed, "book_ticker")[:-1])]
        for name, values in (
            ("askAmount", k.ask_amount[s]), ("askPrice", k.ask_price[s]),
            ("bidPrice", k.bid_price[s]), ("bidAmount", k.bid_amount[s]),
        ):  # fmt: skip
            valid = ~np.isnan(values)
            pieces += [
                enc.choose(valid, pool.literal(f',"{name}":'), (0, 0)),
                enc.optional(valid, enc.numbers(pool, values)),
            ]
        pieces += self._times(pool, k.exch_ts[s], k.local_ts[s], k.exch_ms)
        text = enc.assemble(pool, end - start, pieces)
        return enc.Lines.make(text, k.local_ts[s], feed.stream_id(_TICKER), np.arange(start, end))

    def _derivative(self, feed: _Feed, start: int, end: int) -> enc.Lines:
        table = feed.market.derivative
        assert table is not None
        t = table.slice(start, end - start)
        n = t.num_rows
        local = t.column("local_ts").to_numpy()
        pool = enc.Pool()
        pieces: list[tuple[int, int] | enc.Piece] = [
            pool.literal(self._prefix(feed, "derivative_ticker")[:-1])
        ]
        fields = [
            ("lastPrice", "last_price"), ("openInterest", "open_interest"), ("fundingRate", "funding_rate"),
            ("fundingTimestamp", "funding_timestamp"), ("predictedFundingRate", "predicted_funding_rate"),
            ("indexPrice", "index_price"), ("markPrice", "mark_price"),
        ]  # fmt: skip
        for name, column in fields:
            col = t.column(column).combine_chunks()
            valid = ~np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
            if column == "funding_timestamp":
                ft = col.fill_null(0).to_numpy()
                values = enc.timestamps(pool, ft, enc.whole_ms(ft[valid]))
            else:
                raw = col.to_numpy(zero_copy_only=False).astype(np.float64)
                valid &= ~np.isnan(raw)
                values = enc.numbers(pool, raw)
            pieces += [enc.choose(valid, pool.literal(f',"{name}":'), (0, 0)), enc.optional(valid, values)]
        pieces += self._times(pool, t.column("exch_ts").to_numpy(), local, feed.market.derivative_exch_ms)
        text = enc.assemble(pool, n, pieces)
        return enc.Lines.make(text, local, feed.stream_id(_DERIVATIVE), np.arange(start, end))

    def _book_changes(self, feed: _Feed, g0: int, g1: int) -> enc.Lines:
        book = feed.market.book
        assert book is not None
        ev = book.events
        raw = ev.groups[1, g0:g1]
        start = np.where(raw < 0, ~raw, raw)  # each group's first effective row (only this chunk's)
        stop = ev.group_start[g0 + 1 : g1 + 1]
        lengths = stop - start
        total = int(lengths.sum())
        first = np.cumsum(lengths) - lengths
        rows = np.arange(total, dtype=np.int64) - np.repeat(first - start, lengths)
        ng = g1 - g0
        key = np.repeat(np.arange(ng, dtype=np.int64) * 2, lengths) + (ev.side[rows] < 0)
        order = np.argsort(key, kind="stable")
        rows = rows[order]
        key = key[order]
        offsets = np.concatenate([[0], np.cumsum(np.bincount(key, minlength=2 * ng))])
        last = np.ones(total, dtype=bool)
        if total > 1:
            last[:-1] = key[1:] != key[:-1]
        snapshot = ev.groups[1, g0:g1] < 0
        pool = enc.Pool()
        text = self._book_change_text(
            pool, feed, ng, snapshot, offsets, ev.price[rows], ev.amount[rows], last,
            book.group_exch_ts[g0:g1], book.group_local_ts[g0:g1],
        )  # fmt: skip
        starts = book.file_start_groups
        starts = starts[(starts >= g0) & (starts < g1)]
        if starts.shape[0]:
            # A file that opens with the book (a daily file) did not interrupt the feed: what a
            # client receives there is the change, as the exchange sent it.
            replace = np.zeros(ng, dtype=bool)
            replace[starts - g0] = True
            texts = text.to_pylist()
            for g in starts.tolist():
                texts[g - g0] = self._file_start_change(feed, g)
            text = pa.array(texts, pa.string())
        return enc.Lines.make(text, ev.group_ts[g0:g1], feed.stream_id(_BOOK), np.arange(g0, g1), sub=1)

    def _file_start_change(self, feed: _Feed, g: int) -> str:
        """The snapshot that opens a file, as the change from the book before it (prices ascending)."""
        book = _book(feed)
        replayer = book.replayer()
        replayer.seek_group(g)
        before = {side: _side_levels(replayer.book, side) for side in (1, -1)}
        replayer.seek_group(g + 1)
        after = {side: _side_levels(replayer.book, side) for side in (1, -1)}
        px_parts, amt_parts, counts = [], [], []
        for side in (1, -1):
            b, a = before[side], after[side]
            prices = np.union1d(b[:, 0], a[:, 0])
            old = _amounts_at(b, prices)
            new = _amounts_at(a, prices)
            changed = old != new
            px_parts.append(prices[changed])
            amt_parts.append(new[changed])
            counts.append(int(changed.sum()))
        px, amt = np.concatenate(px_parts), np.concatenate(amt_parts)
        offsets = np.array([0, counts[0], counts[0] + counts[1]])
        last = np.zeros(px.shape[0], dtype=bool)
        last[offsets[1:][offsets[1:] > 0] - 1] = True
        pool = enc.Pool()
        text = self._book_change_text(
            pool, feed, 1, np.array([False]), offsets, px, amt, last,
            book.group_exch_ts[g : g + 1], book.group_local_ts[g : g + 1],
        )  # fmt: skip
        return str(text[0].as_py())

    def _book_change_text(
        self, pool: enc.Pool, feed: _Feed, n: int, snapshot: np.ndarray, list_offsets: np.ndarray,
        px: np.ndarray, amt: np.ndarray, last: np.ndarray, exch: np.ndarray, local: np.ndarray,
    ) -> pa.StringArray:  # fmt: skip
        prefix = self._prefix(feed, "book_change")
        head = enc.choose(
            snapshot,
            pool.literal(prefix + '"isSnapshot":true,"bids":['),
            pool.literal(prefix + '"isSnapshot":false,"bids":['),
        )
        return enc.assemble_two_lists(
            pool,
            n,
            [head],
            pool.literal('],"asks":['),
            [pool.literal("]"), *self._times(pool, exch, local, _book(feed).exch_ms)],
            list_offsets,
            enc.level_pieces(pool, px, amt, last),
        )

    def _disconnects(self, feed: _Feed, g0: int, g1: int) -> enc.Lines:
        """tardis-dev's ``disconnect``: the exchange and the receive time of the last message
        before the gap (no symbols: a replay's connection carries all of them)."""
        book = feed.market.book
        assert book is not None
        hit = np.asarray(self._restarts(feed, g0, g1), dtype=np.int64)
        group_ts = book.events.group_ts
        last = group_ts[np.maximum(hit - 1, 0)]
        resync = group_ts[hit]
        m, t = feed.market, feed.types
        for ts, served in (
            (m.trades.local_ts if m.trades is not None else None, t.trade or bool(feed.bars)),
            (m.tickers.local_ts if m.tickers is not None else None, t.book_ticker),
        ):
            if ts is not None and served and ts.shape[0]:
                k = np.searchsorted(ts, resync, side="left") - 1
                last = np.maximum(last, np.where(k >= 0, ts[np.maximum(k, 0)], last))
        pool = enc.Pool()
        head = f'{{"type":"disconnect","exchange":{feed.exchange_json},"localTimestamp":'
        if book.sequence_gaps:
            return self._gap_disconnects(feed, head, hit, last, resync)
        text = enc.assemble(pool, hit.shape[0], [
            pool.literal(head), enc.timestamps(pool, last), pool.literal("}"),
        ])  # fmt: skip
        return enc.Lines.make(text, resync, feed.stream_id(_BOOK), hit, sub=0)

    def _gap_disconnects(
        self, feed: _Feed, head: str, hit: np.ndarray, last: np.ndarray, resync: np.ndarray
    ) -> enc.Lines:
        """Disconnects of a raw recording: a re-sync after a sequence gap is dated by the last
        message in sequence and carries ``sequenceGap`` (why), an extension tardis clients ignore."""
        import json

        book = feed.market.book
        assert book is not None
        parts = []
        for i in range(hit.shape[0]):
            gap = book.gap_resynced_at(int(resync[i]))
            at = int(last[i]) if gap is None or gap.last_good_ts is None else int(gap.last_good_ts)
            pool = enc.Pool()
            stamp = enc.assemble(pool, 1, [enc.timestamps(pool, np.array([at], dtype=np.int64))])
            line = head + stamp.to_pylist()[0]
            if gap is not None:
                line += ',"sequenceGap":' + json.dumps(f"{gap.reason}; {gap.recovery}")
            parts.append(line + "}")
        text = pa.array(parts, pa.string())
        return enc.Lines.make(text, resync, feed.stream_id(_BOOK), hit, sub=0)

    def _opening_book_change(self, feed: _Feed, g: int, ts: int) -> enc.Lines:
        book = feed.market.book
        assert book is not None
        replayer = book.replayer()
        replayer.seek_group(g)
        b = replayer.book
        bids, asks = b.levels(1, b.level_count(1)), b.levels(-1, b.level_count(-1))
        px = np.concatenate([bids[:, 0], asks[:, 0]])
        amt = np.concatenate([bids[:, 1], asks[:, 1]])
        offsets = np.array([0, bids.shape[0], px.shape[0]])
        last = np.zeros(px.shape[0], dtype=bool)
        last[offsets[1:][offsets[1:] > 0] - 1] = True
        pool = enc.Pool()
        text = self._book_change_text(
            pool, feed, 1, np.array([True]), offsets, px, amt, last,
            np.array([book.group_exch_ts[g - 1]]), np.array([ts]),
        )  # fmt: skip
        return enc.Lines.make(text, np.array([ts]), feed.stream_id(_BOOK), np.array([-1]), sub=1)

    def _snapshot_lines(
        self, feed: _Feed, spec: SnapshotSpec, rows: SnapshotRows, sub: int, item: int | None = None
    ) -> enc.Lines:
        book = feed.market.book
        assert book is not None
        d = spec.depth
        n = len(rows)
        px = np.concatenate([rows.px[:, 1::2], rows.px[:, 0::2]], axis=1).ravel()  # bids then asks
        amt = np.concatenate([rows.amt[:, 1::2], rows.amt[:, 0::2]], axis=1).ravel()
        last = np.tile(np.arange(d) == d - 1, 2 * n)
        grouping = f',"grouping":{enc.js_number(spec.grouping)}' if spec.grouping else ""
        head = (
            f'{self._prefix(feed, "book_snapshot")}"name":{enc.json_string(spec.name)},'
            f'"depth":{d},"interval":{spec.interval_ms}{grouping},"bids":['
        )
        pool = enc.Pool()
        text = enc.assemble_two_lists(
            pool, n, [pool.literal(head)], pool.literal('],"asks":['),
            [pool.literal("]"), *self._times(pool, rows.ts, rows.local_ts, book.exch_ms)],
            np.arange(2 * n + 1) * d, enc.level_pieces(pool, px, amt, last),
        )  # fmt: skip
        if item is None:
            return enc.Lines.make(
                text, book.events.group_ts[rows.group], feed.stream_id(_BOOK), rows.group, sub
            )
        return enc.Lines.make(text, rows.local_ts, feed.stream_id(_BOOK), np.full(n, item), sub=sub)

    def _bars(
        self, feed: _Feed, bar: TradeBarState, p: Prints, start: int, end: int, k: int
    ) -> list[enc.Lines]:
        out = compute_bars(bar, p, start, end)
        if out is None:
            return []
        spec: TradeBarSpec = bar.spec
        pool = enc.Pool()
        head = (
            f'{self._prefix(feed, "trade_bar")}"name":{enc.json_string(spec.name)},'
            f'"interval":{enc.js_number(spec.interval)},"kind":"{spec.kind}","open":'
        )
        text = enc.assemble(pool, out.trade.shape[0], [
            pool.literal(head), enc.numbers(pool, out.open),
            pool.literal(',"high":'), enc.numbers(pool, out.high),
            pool.literal(',"low":'), enc.numbers(pool, out.low),
            pool.literal(',"close":'), enc.numbers(pool, out.close),
            pool.literal(',"volume":'), enc.numbers(pool, out.volume),
            pool.literal(',"buyVolume":'), enc.numbers(pool, out.buy_volume),
            pool.literal(',"sellVolume":'), enc.numbers(pool, out.sell_volume),
            pool.literal(',"trades":'), enc.integers(pool, out.trades),
            pool.literal(',"vwap":'), enc.numbers(pool, out.vwap),
            pool.literal(',"openTimestamp":'), enc.timestamps(pool, out.open_ts, p.exch_ms),
            pool.literal(',"closeTimestamp":'), enc.timestamps(pool, out.close_ts, p.exch_ms),
            pool.literal(',"localTimestamp":'), enc.timestamps(pool, p.local_ts[out.trade]),
            # a time bar ends at a whole millisecond (JavaScript's Date), others at their last trade
            pool.literal(',"timestamp":'), enc.timestamps(pool, out.ts, spec.kind == "time" or p.exch_ms),
            pool.literal("}"),
        ])  # fmt: skip
        sub = feed.subs[spec.name]
        return [enc.Lines.make(text, p.local_ts[out.trade], feed.stream_id(_TRADES), out.trade, sub=sub)]


def _side_levels(book: Any, side: int) -> np.ndarray:
    return np.asarray(book.levels(side, book.level_count(side)), dtype=np.float64).reshape(-1, 2)


def _amounts_at(levels: np.ndarray, prices: np.ndarray) -> np.ndarray:
    """The amount of each of ``prices`` in ``levels`` (price, amount rows), 0 where absent."""
    order = np.argsort(levels[:, 0])
    px, amt = levels[order, 0], levels[order, 1]
    i = np.clip(np.searchsorted(px, prices), 0, max(px.shape[0] - 1, 0))
    if not px.shape[0]:
        return np.zeros(prices.shape[0])
    return np.where(px[i] == prices, amt[i], 0.0)


def _book(feed: _Feed) -> BookData:
    assert feed.market.book is not None
    return feed.market.book


def _merge_types(a: DataTypes, b: DataTypes) -> DataTypes:
    return DataTypes(
        trade=a.trade or b.trade,
        book_change=a.book_change or b.book_change,
        derivative_ticker=a.derivative_ticker or b.derivative_ticker,
        liquidation=a.liquidation or b.liquidation,
        disconnect=a.disconnect or b.disconnect,
        snapshots=tuple(dict.fromkeys(a.snapshots + b.snapshots)),
        trade_bars=tuple(dict.fromkeys(a.trade_bars + b.trade_bars)),
    )


def _drop_types(t: DataTypes, names: list[str]) -> DataTypes:
    return DataTypes(
        trade=t.trade and "trade" not in names,
        book_change=t.book_change and "book_change" not in names,
        derivative_ticker=t.derivative_ticker and "derivative_ticker" not in names,
        liquidation=t.liquidation and "liquidation" not in names,
        disconnect=t.disconnect and "disconnect" not in names,
        snapshots=tuple(s for s in t.snapshots if s.name not in names),
        trade_bars=tuple(b for b in t.trade_bars if b.name not in names),
    )
