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
        self._initial_cash = initial_cash
        self._clock = clock
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
        return self.exchange.next_due() is None and not self.exchange.resting_orders()

    # -- what the strategy sees --------------------------------------------------------------------
    def mark(self) -> float:
        """Price the position is valued at: the mid, or the last mid when the book is one-sided."""
        replayer = self.instrument.book
        if replayer is not None:
            mid = replayer.book.mid()
            if mid == mid:
                self.last_mark = mid
        return self.last_mark

    def trades_seen(self) -> int:
        return 0 if self.runner is None else self.runner.trades_seen(self.instrument_index)

    def sample_grid(self, ts: int) -> None:
        """A sampling grid point: skipped when flat with no fill since the last row (the row would
        only repeat the previous values), so idle strategies cost next to nothing."""
        acct = self.account
        if acct.position == 0.0 and self._sampled_fills == len(acct.fills) and len(self.equity):
            return
        self.sample(ts)

    def sample(self, ts: int) -> None:
        """One row of the equity log: position and PnL parts at ``ts``, valued at the mark."""
        acct = self.account
        self._sampled_fills = len(acct.fills)
        mark = self.mark()
        unrealized = acct.unrealized_pnl(mark)
        equity = acct.cash + (acct.position * mark if acct.position != 0.0 else 0.0)
        self.equity.append(
            ts,
            acct.position,
            acct.avg_price,
            acct.realized_pnl,
            unrealized,
            acct.fees_paid,
            acct.realized_pnl + unrealized - acct.fees_paid,
            equity,
            mark,
        )
