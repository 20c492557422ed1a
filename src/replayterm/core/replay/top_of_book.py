"""Top-of-book sources (``quotes``, ``book_ticker``) as a one-level book, and the BBO check.

A quote row says "the best bid is P x A and the best ask is Q x B now". On its own it is a book
with one level per side, so it becomes a full-snapshot book message of up to two rows (the same
shape ``book_snapshot_N`` files take) and everything built on books — ladder, charts, ``book
--at``, export, strategies and their simulated fills — works on it unchanged: a taker fills up
to the quoted size at the quoted price and a resting order at the touch queues behind the
quoted size. Quote rows sharing one receive time keep only the last (one message, one state).

When an instrument also has an L2 book, the ticker instead serves as a check of the rebuilt top
of book (``bbo_check``): after each L2 message, the rebuilt best bid/ask is compared with the
ticker's latest row received at or before that message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from replayterm.core.data.model import ASK, BID, BOOK_SCHEMA, Kind, Source

TOP_OF_BOOK_KINDS = (Kind.QUOTES, Kind.BOOK_TICKER)


@dataclass(frozen=True, eq=False)
class QuoteStream:
    """A ticker's best bid/offer rows of one instrument in receive-time order (NaN = no side)."""

    local_ts: np.ndarray
    exch_ts: np.ndarray
    bid_price: np.ndarray
    bid_amount: np.ndarray
    ask_price: np.ndarray
    ask_amount: np.ndarray
    kind: Kind = Kind.BOOK_TICKER

    def __len__(self) -> int:
        return int(self.local_ts.shape[0])

    @classmethod
    def from_sources(cls, sources: Sequence[Source]) -> QuoteStream:
        ordered = sorted(sources, key=lambda s: s.time_span() or (0, 0))
        names = ("local_ts", "exch_ts", "bid_price", "bid_amount", "ask_price", "ask_amount")
        table = pa.concat_tables([s.table.select(list(names)) for s in ordered])
        cols = {n: table.column(n).to_numpy() for n in names}
        ts = cols["local_ts"]
        if ts.shape[0] > 1 and np.any(ts[1:] < ts[:-1]):
            ts = np.maximum.accumulate(ts)  # keep file order; clamp like the book's group times
            cols["local_ts"] = ts
        return cls(**cols, kind=ordered[0].kind)


def quotes_as_book_source(sources: Sequence[Source]) -> Source:
    """One ``book_snapshot_1``-shaped source from an instrument's quote/ticker sources."""
    first = sources[0]
    q = QuoteStream.from_sources(sources)
    n = len(q)
    # The last quote of each receive time is the state after that message.
    last = np.ones(n, dtype=bool)
    if n > 1:
        last[:-1] = q.local_ts[1:] != q.local_ts[:-1]
    idx = np.flatnonzero(last)
    bid_ok = np.isfinite(q.bid_price[idx]) & (np.nan_to_num(q.bid_amount[idx]) > 0)
    ask_ok = np.isfinite(q.ask_price[idx]) & (np.nan_to_num(q.ask_amount[idx]) > 0)
    # Interleave bid row then ask row per quote, then drop the missing sides.
    local_ts = np.repeat(q.local_ts[idx], 2)
    exch_ts = np.repeat(q.exch_ts[idx], 2)
    side = np.tile(np.array([BID, ASK], dtype=np.int8), idx.shape[0])
    price = np.column_stack([q.bid_price[idx], q.ask_price[idx]]).ravel()
    amount = np.column_stack([q.bid_amount[idx], q.ask_amount[idx]]).ravel()
    keep = np.column_stack([bid_ok, ask_ok]).ravel()
    n_rows = int(keep.sum())
    table = pa.table(
        {
            "exchange": pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(n_rows, dtype=np.int16)), pa.array([first.exchange])
            ),
            "symbol": pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(n_rows, dtype=np.int16)), pa.array([first.symbol])
            ),
            "local_ts": local_ts[keep],
            "exch_ts": exch_ts[keep],
            "side": side[keep],
            "price": price[keep],
            "amount": amount[keep],
            "is_snapshot": np.ones(n_rows, dtype=bool),
        },
        schema=BOOK_SCHEMA,
    )
    return Source(
        path=first.path,
        kind=Kind.BOOK_SNAPSHOT,
        exchange=first.exchange,
        symbol=first.symbol,
        table=table,
        snapshot_depth=1,
        cache_state=first.cache_state,
    )


@dataclass
class BboCheck:
    """The rebuilt L2 top of book against the exchange's own ticker, after each L2 message.

    For L2 message g (received at ``t``), the reference is the ticker's latest row received at or
    before ``t``. ``price_match`` counts messages where both best prices equal the ticker's,
    ``full_match`` those where the touch sizes equal it too. Messages before the first ticker
    row are not compared. Pairing by receive time is the only pairing the data allows when no
    shared update id exists; a depth stream that is throttled (it bundles several changes while
    the ticker fires on each) makes some messages compare against a ticker row a few changes
    older or newer than the book state, so a rate below 100 % is expected there and is not by
    itself a rebuild error. Mismatches that persist over many messages are.
    """

    instrument: str
    compared: int = 0
    price_match: int = 0
    full_match: int = 0
    mismatch_ts: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    first_mismatches: list[dict[str, float | int]] = field(default_factory=list)

    @property
    def price_rate(self) -> float:
        return self.price_match / self.compared if self.compared else float("nan")

    @property
    def full_rate(self) -> float:
        return self.full_match / self.compared if self.compared else float("nan")

    EXPLANATION = (
        "each L2 message's rebuilt best bid/ask is compared with the ticker's latest row received "
        "at or before it; a throttled depth stream bundles several changes while the ticker "
        "reports each one, so pairing by receive time can fall below 100 % on a correct rebuild"
    )

    def to_json(self) -> dict[str, object]:
        return {
            "instrument": self.instrument,
            "compared_messages": self.compared,
            "price_match_rate": round(self.price_rate, 6) if self.compared else None,
            "price_and_size_match_rate": round(self.full_rate, 6) if self.compared else None,
            "mismatches": int(self.compared - self.price_match),
            "first_mismatches": self.first_mismatches,
            "meaning": self.EXPLANATION,
        }

    def summary_line(self) -> str:
        if not self.compared:
            return f"{self.instrument}: BBO check: no L2 message after the first ticker row"
        return (
            f"{self.instrument}: BBO check vs ticker: prices match after {self.price_rate:.1%} of "
            f"{self.compared:,} L2 messages (prices and sizes {self.full_rate:.1%})"
        )


def bbo_check(
    instrument: str,
    group_ts: np.ndarray,
    best_bid: np.ndarray,
    best_ask: np.ndarray,
    bid_size: np.ndarray | None,
    ask_size: np.ndarray | None,
    quotes: QuoteStream,
    *,
    keep_first: int = 10,
) -> BboCheck:
    """Compare the top of book after each message (arrays per message) with the ticker."""
    result = BboCheck(instrument)
    if len(quotes) == 0 or group_ts.shape[0] == 0:
        return result
    ref = np.searchsorted(quotes.local_ts, group_ts, side="right") - 1
    ok = ref >= 0
    g = np.flatnonzero(ok)
    r = ref[ok]
    qb, qa = quotes.bid_price[r], quotes.ask_price[r]
    bb, ba = best_bid[g], best_ask[g]
    price_eq = _same(bb, qb) & _same(ba, qa)
    full_eq = price_eq.copy()
    if bid_size is not None and ask_size is not None:
        full_eq &= _same(bid_size[g], quotes.bid_amount[r]) & _same(ask_size[g], quotes.ask_amount[r])
    result.compared = int(g.shape[0])
    result.price_match = int(price_eq.sum())
    result.full_match = int(full_eq.sum())
    bad = np.flatnonzero(~price_eq)
    result.mismatch_ts = group_ts[g[bad]].astype(np.int64)
    for k in bad[:keep_first]:
        result.first_mismatches.append(
            {
                "local_ts": int(group_ts[g[k]]),
                "book_bid": float(bb[k]),
                "book_ask": float(ba[k]),
                "ticker_bid": float(qb[k]),
                "ticker_ask": float(qa[k]),
                "ticker_local_ts": int(quotes.local_ts[r[k]]),
            }
        )
    return result


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a == b) | (np.isnan(a) & np.isnan(b))


def bbo_check_of(instrument: object) -> BboCheck | None:
    """The BBO check of an ``Instrument`` with both an L2 book and a ticker (else None)."""
    from replayterm.core.replay.instruments import Instrument

    assert isinstance(instrument, Instrument)
    if isinstance(instrument.bbo_check, BboCheck):
        return instrument.bbo_check
    replayer, quotes = instrument.book, instrument.quotes
    if replayer is None or quotes is None or instrument.top_of_book_only:
        return None
    cps = replayer.checkpoints
    if cps is None or cps.best_idx is None:
        return None
    bid, ask = cps.best_prices(replayer.events.prices)
    amt = cps.best_amt
    instrument.bbo_check = bbo_check(
        instrument.name,
        replayer.events.group_ts,
        bid,
        ask,
        None if amt is None else amt[:, 0],
        None if amt is None else amt[:, 1],
        quotes,
    )
    return instrument.bbo_check
