"""``StrategyContext`` (``ctx``): everything a strategy may see and do, in simulated time.

One context per strategy run. It reads the shared replay clock, the strategy's instrument book
and its own account, and it sends orders through the strategy's own simulated exchange. There
is no wall clock here and no way to read data past ``ctx.now``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np

from replayterm.core.book.book import Book, TopStats
from replayterm.core.execution.account import Account, OrderState
from replayterm.core.execution.exchange import SimExchange
from replayterm.core.execution.orders import BUY, SELL, Order, TimeInForce
from replayterm.core.frames.batches import TradeBatch
from replayterm.core.replay.instruments import Instrument
from replayterm.core.strategy.records import PlotLog, SignalLog, TextLog


class LegView(Protocol):
    """One instrument a strategy trades, as the context sees it (``slot.Leg``)."""

    @property
    def index(self) -> int: ...
    @property
    def instrument(self) -> Instrument: ...
    @property
    def market_book(self) -> MarketBook | None: ...
    @property
    def tick_size(self) -> float: ...


class ContextOwner(Protocol):
    """What a context needs from the run that owns it (``StrategySlot``). A protocol, so this
    module does not import the slot, which builds contexts: the package depends one way."""

    name: str
    tick_size: float
    account: Account
    exchange: SimExchange
    signals: SignalLog
    plots: PlotLog
    logs: TextLog
    instrument_index: int
    multi: bool
    accounts: dict[int, Account]
    exchanges: dict[int, SimExchange]
    funding: dict[int, float]

    @property
    def legs(self) -> Sequence[LegView]: ...
    def leg(self, name: str) -> LegView: ...
    def mark_of(self, index: int) -> float: ...
    def mark(self) -> float: ...
    def trades_seen(self, index: int | None = None) -> int: ...
    def exchange_changed(self) -> None: ...
    def add_timer(self, due: int) -> None: ...
    def clear_timers(self) -> None: ...


class SimClock:
    """The simulated time callbacks run at (µs, replay axis). Shared by every context."""

    __slots__ = ("now",)

    def __init__(self, now: int = 0) -> None:
        self.now = now


class Trade(NamedTuple):
    """One public trade. ``side`` is the taker side: +1 buy, -1 sell, 0 unknown."""

    local_ts: int
    exch_ts: int
    side: int
    price: float
    amount: float


class InstrumentInfo(NamedTuple):
    exchange: str
    symbol: str
    name: str  # "exchange:symbol"
    tick_size: float  # smallest price step seen in the data (0.0 when unknown)


class TradeView:
    """The trade passed to ``on_trade``. It is reused for the next trade (no object per row):
    read its fields during the callback, or keep ``trade.copy()``."""

    __slots__ = ("amount", "exch_ts", "instrument", "local_ts", "price", "side")

    def __init__(self, instrument: InstrumentInfo | None = None) -> None:
        self.instrument = instrument  # which instrument's trade (``trade.instrument.name``)
        self.local_ts = 0
        self.exch_ts = 0
        self.side = 0
        self.price = 0.0
        self.amount = 0.0

    def copy(self) -> Trade:
        return Trade(self.local_ts, self.exch_ts, self.side, self.price, self.amount)

    def __repr__(self) -> str:
        return f"TradeView({self.copy()!r})"


class MarketBook:
    """The book a strategy reads: the live ``Book``'s queries and nothing else.

    The engine's ``Book`` also carries the price grid of the whole file, which would tell a
    strategy which prices are still to come; this facade hands out only the state as of ``now``.
    Its attributes are the book's own bound methods, so a query costs exactly what it costs on
    the book. Sides: +1 bid, -1 ask.
    """

    __slots__ = (
        "best_ask",
        "best_bid",
        "depth",
        "depth_bps",
        "fill_price",
        "imbalance",
        "instrument",
        "level_count",
        "levels",
        "microprice",
        "mid",
        "size_at",
        "spread",
        "spread_bps",
        "top_stats",
    )

    best_bid: Callable[[], tuple[float, float] | None]
    best_ask: Callable[[], tuple[float, float] | None]
    levels: Callable[[int, int], np.ndarray]
    size_at: Callable[[int, float], float]
    level_count: Callable[[int], int]
    mid: Callable[[], float]
    spread: Callable[[], float]
    spread_bps: Callable[[], float]
    microprice: Callable[[], float]
    imbalance: Callable[..., float]
    depth: Callable[[int, int], float]
    depth_bps: Callable[[int, float], float]
    fill_price: Callable[[int, float], tuple[float, float]]
    top_stats: Callable[..., TopStats]

    instrument: InstrumentInfo | None  # which instrument's book (``book.instrument.name``)

    def __init__(self, book: Book, instrument: InstrumentInfo | None = None) -> None:
        for name in self.__slots__:
            if name != "instrument":
                setattr(self, name, getattr(book, name))
        self.instrument = instrument


class PnLSnapshot(NamedTuple):
    """Account figures in quote currency; ``net = realized + unrealized - fees``. ``mark`` is the
    price the open position is valued at (the mid, or the last mid when the book is one-sided)."""

    realized: float
    unrealized: float
    fees: float
    net: float
    position: float
    mark: float


class StrategyContext:
    """What a strategy gets in every callback. See docs/writing-a-strategy.md."""

    __slots__ = ("_book", "_clock", "_slot", "_trades", "instrument", "name", "params")

    def __init__(
        self,
        slot: ContextOwner,
        clock: SimClock,
        instrument: Instrument,
        book: MarketBook | None,
        params: Any,
    ) -> None:
        self._slot = slot
        self._clock = clock
        self._book = book
        self._trades = instrument.trades
        self.instrument = InstrumentInfo(
            instrument.exchange, instrument.symbol, instrument.name, slot.tick_size
        )
        self.name = slot.name
        self.params = params

    # -- time and market data -------------------------------------------------------------------
    @property
    def now(self) -> int:
        """Simulated local time of the current callback (µs since the epoch, UTC)."""
        return self._clock.now

    @property
    def book(self) -> MarketBook | None:
        """The instrument's order book as of ``now`` (None for a trades-only instrument)."""
        return self._book

    @property
    def book_unreliable(self) -> str:
        """Why the instrument's book cannot be trusted at ``now`` ("" when it can): a raw
        recording's sequence gap not yet re-synced by a snapshot. Orders are not filled against
        the book meanwhile (they are rejected on arrival; resting ones wait)."""
        inst = self._slot.legs[0].instrument
        gap = inst.unreliable_at(self.now) if inst.sequence_gaps else None
        return "" if gap is None else f"sequence gap: {gap.reason}"

    @property
    def tick_size(self) -> float:
        return self._slot.tick_size

    @property
    def books(self) -> dict[str, MarketBook | None]:
        """Every traded instrument's book by name ("exchange:symbol"); the first is ``ctx.book``."""
        return {leg.instrument.name: leg.market_book for leg in self._slot.legs}

    @property
    def instruments(self) -> tuple[str, ...]:
        """Names of the instruments this strategy trades, the first being ``ctx.instrument``."""
        return tuple(leg.instrument.name for leg in self._slot.legs)

    def recent_trades(self, n: int, instrument: str | None = None) -> TradeBatch:
        """The last ``n`` public trades seen so far (oldest first), as columns."""
        if instrument is None:
            trades, seen_of = self._trades, None
        else:
            leg = self._slot.leg(instrument)
            trades, seen_of = leg.instrument.trades, leg.index
        if trades is None or n <= 0:
            return TradeBatch()
        seen = self._slot.trades_seen(seen_of)
        return trades.batch(seen - n, seen)

    # -- account ---------------------------------------------------------------------------------
    @property
    def position(self) -> float:
        """Signed position (+ long) in the first instrument, from the fills heard of so far."""
        return self._slot.account.position

    def position_of(self, instrument: str) -> float:
        """Signed position in one of the strategy's instruments."""
        return self._slot.accounts[self._slot.leg(instrument).index].position

    @property
    def positions(self) -> dict[str, float]:
        """Signed position per traded instrument."""
        return {leg.instrument.name: self._slot.accounts[leg.index].position for leg in self._slot.legs}

    @property
    def funding(self) -> float:
        """Funding received so far over every instrument (negative: paid)."""
        return sum(self._slot.funding.values())

    @property
    def avg_price(self) -> float:
        """Average entry price of the open position (0.0 when flat)."""
        return self._slot.account.avg_price

    @property
    def cash(self) -> float:
        return self._slot.account.cash

    @property
    def pnl(self) -> PnLSnapshot:
        """PnL of the first instrument (funding included in ``net``); see ``pnl_of``/``total_pnl``."""
        return self._pnl(self._slot.instrument_index)

    def pnl_of(self, instrument: str) -> PnLSnapshot:
        return self._pnl(self._slot.leg(instrument).index)

    @property
    def total_pnl(self) -> PnLSnapshot:
        """Realized, unrealized, fees and net summed over every instrument (position and mark:
        the first instrument's)."""
        parts = [self._pnl(leg.index) for leg in self._slot.legs]
        first = parts[0]
        return PnLSnapshot(
            sum(p.realized for p in parts),
            sum(p.unrealized for p in parts),
            sum(p.fees for p in parts),
            sum(p.net for p in parts),
            first.position,
            first.mark,
        )

    def _pnl(self, index: int) -> PnLSnapshot:
        slot = self._slot
        acct = slot.accounts[index]
        mark = slot.mark_of(index)
        unrealized = acct.unrealized_pnl(mark)
        net = acct.realized_pnl + unrealized - acct.fees_paid + slot.funding[index]
        return PnLSnapshot(acct.realized_pnl, unrealized, acct.fees_paid, net, acct.position, mark)

    @property
    def open_orders(self) -> list[OrderState]:
        """Orders sent and not known to be finished (pending, or acknowledged and not filled)."""
        if self._slot.multi:
            return [o for a in self._slot.accounts.values() for o in a.open_orders()]
        return self._slot.account.open_orders()

    def instrument_of(self, order_id: int) -> str | None:
        """Which instrument an order (and so its fills, ``fill.order_id``) is on; None if unknown."""
        slot = self._slot
        for leg in slot.legs:
            if order_id in slot.accounts[leg.index].orders:
                return leg.instrument.name
        return None

    def order(self, order_id: int) -> OrderState | None:
        """What the strategy knows of one of its orders."""
        slot = self._slot
        if not slot.multi:
            return slot.account.orders.get(order_id)
        for acct in slot.accounts.values():
            state = acct.orders.get(order_id)
            if state is not None:
                return state
        return None

    # -- orders ----------------------------------------------------------------------------------
    def submit(self, order: Order, *, instrument: str | None = None) -> int:
        """Send ``order`` now (to ``instrument``, default the first); returns its id. It reaches
        the book after the entry latency."""
        slot = self._slot
        ex = slot.exchange if instrument is None else slot.exchanges[slot.leg(instrument).index]
        order_id = ex.submit(self._clock.now, order)
        slot.exchange_changed()
        return order_id

    def buy(
        self,
        amount: float,
        price: float | None = None,
        *,
        tif: TimeInForce | str = "GTC",
        tag: str = "",
        instrument: str | None = None,
    ) -> int:
        """Buy ``amount``: a market order without ``price``, else a limit order (GTC, IOC or
        POST_ONLY). ``instrument`` routes it to another of the strategy's instruments."""
        return self.submit(_order(BUY, amount, price, tif, tag), instrument=instrument)

    def sell(
        self,
        amount: float,
        price: float | None = None,
        *,
        tif: TimeInForce | str = "GTC",
        tag: str = "",
        instrument: str | None = None,
    ) -> int:
        """Sell ``amount``: a market order without ``price``, else a limit order."""
        return self.submit(_order(SELL, amount, price, tif, tag), instrument=instrument)

    def cancel(self, order_id: int) -> bool:
        """Ask to cancel an order; False when it is already known to be finished. It can still
        fill until the cancel reaches the exchange."""
        slot = self._slot
        ex = slot.exchange
        if slot.multi:
            ex = next((e for e in slot.exchanges.values() if order_id in e.account.orders), ex)
        sent = ex.cancel(self._clock.now, order_id)
        if sent:
            slot.exchange_changed()
        return sent

    def cancel_all(self) -> int:
        """Cancel every open order not already being cancelled; returns how many were sent."""
        slot = self._slot
        if slot.multi:
            sent = sum(ex.cancel_all(self._clock.now) for ex in slot.exchanges.values())
        else:
            sent = slot.exchange.cancel_all(self._clock.now)
        if sent:
            self._slot.exchange_changed()
        return sent

    # -- output ----------------------------------------------------------------------------------
    def signal(self, kind: str, strength: float = 1.0, **meta: Any) -> None:
        """Record a signal at ``now`` (drawn as a marker); ``meta`` is free key/values."""
        slot = self._slot
        slot.signals.append(self._clock.now, str(kind), float(strength), slot.mark(), meta)

    def plot(self, series: str, value: float) -> None:
        """Add a point at ``now`` to the line ``series``. Every call is kept: throttle it in the
        strategy when calling per book message over long replays."""
        self._slot.plots.append(self._clock.now, series, float(value))

    def set_timer(self, delay_us: int) -> None:
        """Call ``on_timer`` once ``delay_us`` (> 0) µs of simulated time from now, after every
        event up to that time."""
        delay = int(delay_us)
        if delay <= 0:
            raise ValueError(f"timer delay must be > 0 µs, got {delay_us!r}")
        self._slot.add_timer(self._clock.now + delay)

    def cancel_timers(self) -> None:
        """Drop every pending timer of this strategy."""
        self._slot.clear_timers()

    def log(self, message: object) -> None:
        """A line for the strategy's log panel, stamped with ``now``."""
        self._slot.logs.append(self._clock.now, str(message))


def _order(side: int, amount: float, price: float | None, tif: TimeInForce | str, tag: str) -> Order:
    if price is None:
        return Order.market(side, amount, tag)
    if isinstance(price, np.generic):
        price = price.item()
    return Order.limit(side, amount, price, TimeInForce(tif), tag)
