"""``StrategySlot``: one strategy in a session — its class and parameters, and the state of the
current run (instance, account, simulated exchange, timers, records, status).

``reset()`` starts a fresh run: new instance, empty account and records. The runner drives the
slot; the slot keeps its own wake-up time (``due``) and tells the runner when it changes.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from replayterm.core.execution.account import Account
from replayterm.core.execution.exchange import SimExchange
from replayterm.core.replay.instruments import Instrument
from replayterm.core.strategy.base import Strategy
from replayterm.core.strategy.context import MarketBook, SimClock, StrategyContext
from replayterm.core.strategy.errors import StrategyError, StrategyStatus
from replayterm.core.strategy.records import NumericLog, PlotLog, SignalLog, TextLog, equity_log

NO_WAKE = 1 << 62  # later than any timestamp


class WakeTime(Protocol):
    next: int  # the earliest wake-up of every slot the driver runs


class SlotDriver(Protocol):
    """What a slot needs from the runner that drives it (``EventRunner``). A protocol, so this
    module does not import the runner, which imports it: the package depends one way."""

    @property
    def wake(self) -> WakeTime: ...
    def activate(self, slot: StrategySlot) -> None: ...
    def trades_seen(self, instrument_index: int) -> int: ...


ExchangeFactory = Callable[[Account], SimExchange]


class Leg:
    """One more instrument a strategy trades (besides its first): its book, exchange and account."""

    __slots__ = ("index", "instrument", "make_exchange", "market_book", "tick_size")

    def __init__(
        self,
        index: int,
        instrument: Instrument,
        market_book: MarketBook | None,
        make_exchange: ExchangeFactory,
    ) -> None:
        self.index = index
        self.instrument = instrument
        self.market_book = market_book
        self.make_exchange = make_exchange
        tick = instrument.tick_size
        self.tick_size = tick if tick > 0 else 0.0


def overridden(instance: Strategy, name: str) -> Callable[..., Any] | None:
    """The bound callback when the strategy's class overrides it, else None (never called)."""
    if getattr(type(instance), name, None) is getattr(Strategy, name):
        return None
    return getattr(instance, name)


class StrategySlot:
    def __init__(
        self,
        slot_id: int,
        cls: type[Strategy],
        params: Any,
        *,
        name: str,
        colour: str,
        spec: str | None,
        instrument_index: int,
        instrument: Instrument,
        market_book: MarketBook | None,
        make_exchange: ExchangeFactory,
        initial_cash: float,
        clock: SimClock,
        extra_legs: tuple[Leg, ...] = (),
    ) -> None:
        self.id = slot_id
        self.cls = cls
        self.params = params
        self.name = name
        self.colour = colour
        self.spec = spec
        self.instrument_index = instrument_index
        self.instrument = instrument
        tick = instrument.tick_size
        self.tick_size = tick if tick > 0 else 0.0
        self.market_book = market_book
        self._make_exchange = make_exchange
        self.legs: tuple[Leg, ...] = (
            Leg(instrument_index, instrument, market_book, make_exchange),
            *extra_legs,
        )
        self.instrument_indices: tuple[int, ...] = tuple(leg.index for leg in self.legs)
        self._initial_cash = initial_cash
        self._clock = clock
        self.warnings: list[str] = []  # what the strategy will never see in the open data
        self.status = StrategyStatus.ENABLED
        self.error: StrategyError | None = None
        self.run_id = 0
        self.runner: SlotDriver | None = None
        self.reset()

    # -- lifecycle --------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the current run: the next run starts from scratch (``start`` is called again)."""
        self.run_id += 1
        self.account = Account(self.name, self._initial_cash)
        self.exchange = self._make_exchange(self.account)
        # Per traded instrument: account and exchange (the first is ``account``/``exchange``).
        # Every leg's account starts with the same cash; order ids are unique across legs.
        self.accounts: dict[int, Account] = {self.instrument_index: self.account}
        self.exchanges: dict[int, SimExchange] = {self.instrument_index: self.exchange}
        for leg in self.legs[1:]:
            acct = Account(f"{self.name}:{leg.instrument.name}", 0.0)
            acct.new_order_id = self.account.new_order_id  # type: ignore[method-assign]
            self.accounts[leg.index] = acct
            self.exchanges[leg.index] = leg.make_exchange(acct)
        self.multi = len(self.legs) > 1
        self.all_fills: list[Any] = []  # every leg's fills in the order they were heard of
        self.fill_instruments: list[int] = []  # instrument index of each of ``all_fills``
        self.funding: dict[int, float] = {leg.index: 0.0 for leg in self.legs}  # received (+) / paid (-)
        self.funding_log = NumericLog(
            ("ts", "instrument", "position", "mark", "rate", "amount"),
            (np.int64, np.int64, np.float64, np.float64, np.float64, np.float64),
        )
        self.leg_equity: dict[int, NumericLog] = (
            {leg.index: equity_log() for leg in self.legs} if len(self.legs) > 1 else {}
        )
        self.last_marks: dict[int, float] = {leg.index: math.nan for leg in self.legs}
        self.signals = SignalLog()
        self.plots = PlotLog()
        self.logs = TextLog()
        self.equity: NumericLog = equity_log()
        self.timers: list[int] = []
        self.ex_due = NO_WAKE
        self.due = NO_WAKE
        self.active = False
        self.started = False
        self.stopped = False
        self.stop_ts: int | None = None
        self.last_mark = math.nan
        self._sampled_fills = 0
        self.instance: Strategy | None = None
        self.ctx = StrategyContext(self, self._clock, self.instrument, self.market_book, self.params)
        # Bound callbacks the class overrides; None means "never call" (set by ``instantiate``).
        self.cb_start: Callable[..., Any] | None = None
        self.cb_book: Callable[..., Any] | None = None
        self.cb_trade: Callable[..., Any] | None = None
        self.cb_fill: Callable[..., Any] | None = None
        self.cb_order: Callable[..., Any] | None = None
        self.cb_timer: Callable[..., Any] | None = None
        self.cb_stop: Callable[..., Any] | None = None
        self.cb_ticker: Callable[..., Any] | None = None
        self.cb_liquidation: Callable[..., Any] | None = None

    def instantiate(self) -> None:
        """Create the strategy object and bind the callbacks it overrides (may raise)."""
        self.started = True
        instance = self.cls(self.params)
        self.instance = instance
        self.cb_start = overridden(instance, "on_start")
        self.cb_book = overridden(instance, "on_book")
        self.cb_trade = overridden(instance, "on_trade")
        self.cb_fill = overridden(instance, "on_fill")
        self.cb_order = overridden(instance, "on_order")
        self.cb_timer = overridden(instance, "on_timer")
        self.cb_stop = overridden(instance, "on_stop")
        self.cb_ticker = overridden(instance, "on_ticker")
        self.cb_liquidation = overridden(instance, "on_liquidation")

    @property
    def live(self) -> bool:
        """Driven by the replay: enabled, not failed, not past the end of the data."""
        return self.status is StrategyStatus.ENABLED and not self.stopped

    def fail(self, error: StrategyError) -> None:
        self.status = StrategyStatus.FAILED
        self.error = error
        self.logs.append(error.ts, f"stopped: {error}")

    # -- wake-ups ---------------------------------------------------------------------------------
    def add_timer(self, due: int) -> None:
        heapq.heappush(self.timers, due)
        self.update_due()

    def clear_timers(self) -> None:
        self.timers.clear()
        self.update_due()

    def exchange_changed(self) -> None:
        """After an order or cancel was sent: drive the exchange and wake up when it is due."""
        if not self.active:
            self.active = True
            if self.runner is not None:
                self.runner.activate(self)
        self.refresh_due()

    def refresh_due(self) -> None:
        if self.multi:
            dues = [d for d in (ex.next_due() for ex in self.exchanges.values()) if d is not None]
            due: int | None = min(dues) if dues else None
        else:
            due = self.exchange.next_due()
        self.ex_due = NO_WAKE if due is None else due
        self.update_due()

    def update_due(self) -> None:
        due = self.ex_due
        if self.timers and self.timers[0] < due:
            due = self.timers[0]
        self.due = due
        runner = self.runner
        if runner is not None and due < runner.wake.next:
            runner.wake.next = due

    def exchange_idle(self) -> bool:
        """Nothing in flight and nothing resting: the replay need not drive the exchange."""
        if not self.multi:
            return self.exchange.next_due() is None and not self.exchange.resting_orders()
        return all(ex.next_due() is None and not ex.resting_orders() for ex in self.exchanges.values())

    # -- what the strategy sees --------------------------------------------------------------------
    def mark(self) -> float:
        """Price the position is valued at: the mid, or the last mid when the book is one-sided."""
        replayer = self.instrument.book
        if replayer is not None:
            mid = replayer.book.mid()
            if mid == mid:
                self.last_mark = mid
        return self.last_mark

    def leg(self, name: str) -> Leg:
        """The leg trading ``name`` ("exchange:symbol", or a symbol when that is unambiguous)."""
        for leg in self.legs:
            if leg.instrument.name == name:
                return leg
        matches = [leg for leg in self.legs if leg.instrument.symbol == name]
        if len(matches) == 1:
            return matches[0]
        known = ", ".join(leg.instrument.name for leg in self.legs)
        raise KeyError(f"{self.name} does not trade {name!r} (it trades {known})")

    def mark_of(self, index: int) -> float:
        """Like ``mark`` for any of the strategy's instruments."""
        if index == self.instrument_index:
            return self.mark()
        inst = next(leg.instrument for leg in self.legs if leg.index == index)
        if inst.book is not None:
            mid = inst.book.book.mid()
            if mid == mid:
                self.last_marks[index] = mid
        return self.last_marks[index]

    def trades_seen(self, index: int | None = None) -> int:
        i = self.instrument_index if index is None else index
        return 0 if self.runner is None else self.runner.trades_seen(i)

    def record_fill(self, index: int, fill: Any) -> None:
        self.all_fills.append(fill)
        self.fill_instruments.append(index)

    def settle_funding(self, index: int, ts: int, rate: float, mark: float) -> float:
        """Funding at a funding time: ``-position * mark * rate`` (longs pay a positive rate).
        Returns the amount received (negative: paid); 0 when flat."""
        acct = self.accounts.get(index)
        if acct is None or acct.position == 0.0 or not (rate == rate and mark == mark):
            return 0.0
        amount = -acct.position * mark * rate
        acct.cash += amount
        self.funding[index] += amount
        self.funding_log.append(ts, index, acct.position, mark, rate, amount)
        return amount

    def sample_leg(self, ts: int) -> None:
        for index, log in self.leg_equity.items():
            acct = self.accounts[index]
            mark = self.mark_of(index)
            unrealized = acct.unrealized_pnl(mark)
            funding = self.funding[index]
            log.append(
                ts,
                acct.position,
                acct.avg_price,
                acct.realized_pnl,
                unrealized,
                acct.fees_paid,
                acct.realized_pnl + unrealized - acct.fees_paid + funding,
                acct.cash + (acct.position * mark if acct.position != 0.0 else 0.0),
                mark,
                funding,
            )

    def sample_grid(self, ts: int) -> None:
        """A sampling grid point: skipped when flat with no fill since the last row (the row would
        only repeat the previous values), so idle strategies cost next to nothing."""
        acct = self.account
        if self.multi:
            if (
                all(a.position == 0.0 for a in self.accounts.values())
                and self._sampled_fills == len(self.all_fills)
                and len(self.equity)
            ):
                return
        elif acct.position == 0.0 and self._sampled_fills == len(acct.fills) and len(self.equity):
            return
        self.sample(ts)

    def sample(self, ts: int) -> None:
        """One row of the equity log: position and PnL parts at ``ts``, valued at the mark."""
        acct = self.account
        mark = self.mark()
        if self.multi:
            self._sampled_fills = len(self.all_fills)
            self.sample_leg(ts)
            # The total row: position, average price and mark of the first instrument; PnL,
            # fees, funding and equity summed over every instrument.
            realized = unrealized = fees = equity = funding = 0.0
            for index, log in self.leg_equity.items():
                realized += log.last("realized") or 0.0
                unrealized += log.last("unrealized") or 0.0
                fees += log.last("fees") or 0.0
                equity += log.last("equity") or 0.0
                funding += self.funding[index]
            self.equity.append(
                ts,
                acct.position,
                acct.avg_price,
                realized,
                unrealized,
                fees,
                realized + unrealized - fees + funding,
                equity,
                mark,
                funding,
            )
            return
        self._sampled_fills = len(acct.fills)
        unrealized = acct.unrealized_pnl(mark)
        funding = self.funding[self.instrument_index]
        equity = acct.cash + (acct.position * mark if acct.position != 0.0 else 0.0)
        self.equity.append(
            ts,
            acct.position,
            acct.avg_price,
            acct.realized_pnl,
            unrealized,
            acct.fees_paid,
            acct.realized_pnl + unrealized - acct.fees_paid + funding,
            equity,
            mark,
            funding,
        )
