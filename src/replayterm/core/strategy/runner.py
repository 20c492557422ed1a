"""``EventRunner``: replays timeline events one by one and drives strategies and their exchanges.

For each event at time ``t`` (trades at ``t`` come before the book message at ``t``):

1. wake-ups due before ``t`` run first, in time order: for each strategy due, its exchange
   (``advance(w)``; ``poll(w)`` -> ``on_fill`` / ``on_order``), then its timers (``on_timer``);
2. one equity sample per strategy when ``t`` reaches the next sampling grid point;
3. a book message is applied, then every busy exchange of that instrument sees it
   (``on_book`` -> ``poll(t)``); a trade goes to every busy exchange (``on_trade`` -> ``poll``);
4. the strategies' ``on_book`` / ``on_trade`` callbacks.

A batch ending at ``T`` then runs the wake-ups due by ``T`` (never past the next event's time),
so cutting a replay into batches anywhere gives the same calls in the same order. An exchange
with nothing in flight and nothing resting is idle and is not called at all.

The loop over events is the hot path: it only touches prebound locals and tuples, and one
``try`` covers a whole chunk. When a callback raises, the slow path disables that strategy,
runs the callbacks of that event the failure skipped, and re-enters the loop.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from typing import Any

from replayterm.core.data.progress import Cancelled
from replayterm.core.execution.orders import Event, Fill, Reject
from replayterm.core.replay.cursor import EventKind
from replayterm.core.strategy.context import SimClock
from replayterm.core.strategy.env import ReplayEnv
from replayterm.core.strategy.errors import StrategyAborted, StrategyError
from replayterm.core.strategy.slot import NO_WAKE, StrategySlot
from replayterm.core.strategy.watchdog import StrategyWatchdog

CHUNK = 16_384  # timeline events converted to Python lists at a time
RUNAWAY_ROUNDS = 100_000  # wake-up rounds at one instant before a strategy counts as runaway
_NO_ARG = object()

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]


class _Cell:
    __slots__ = ("next",)

    def __init__(self) -> None:
        self.next: int = NO_WAKE


class EventRunner:
    def __init__(
        self, env: ReplayEnv, clock: SimClock, slots: list[StrategySlot], watchdog: StrategyWatchdog
    ) -> None:
        self.env = env
        self.clock = clock  # the time every context reads
        self.slots = slots  # the caller's list: slots it adds later are seen at the next rebuild()
        self.watchdog = watchdog
        watchdog.dispatch_codes.update((EventRunner._hot.__code__, EventRunner._invoke.__code__))
        self.wake = _Cell()
        self.sampler = _Cell()
        n = len(env.instruments)
        self.book_subs: list[tuple[tuple[Any, Any], ...]] = [()] * n
        self.trade_subs: list[tuple[tuple[Any, Any], ...]] = [()] * n
        self.ticker_subs: list[tuple[tuple[Any, Any], ...]] = [()] * n
        self.liquidation_subs: list[tuple[tuple[Any, Any], ...]] = [()] * n
        self.holders: list[tuple[StrategySlot, ...]] = [()] * n  # who trades instrument i (funding)
        self.active: list[tuple[StrategySlot, ...]] = [()] * n
        self.running: tuple[StrategySlot, ...] = ()
        self.warnings: list[str] = []
        self.rebuild()

    # -- tables -----------------------------------------------------------------------------------
    def rebuild(self) -> None:
        """Recompute who gets called for what, after slots were added, failed or stopped."""
        running = tuple(s for s in self.slots if s.live and s.started)
        self.running = running
        for i in range(len(self.env.instruments)):
            mine = [s for s in running if i in s.instrument_indices]
            self.book_subs[i] = tuple((s.cb_book, s.ctx) for s in mine if s.cb_book is not None)
            self.trade_subs[i] = tuple((s.cb_trade, s.ctx) for s in mine if s.cb_trade is not None)
            self.ticker_subs[i] = tuple((s.cb_ticker, s.ctx) for s in mine if s.cb_ticker is not None)
            self.liquidation_subs[i] = tuple(
                (s.cb_liquidation, s.ctx) for s in mine if s.cb_liquidation is not None
            )
            self.holders[i] = tuple(mine)
            self.active[i] = tuple(s for s in mine if s.active)
        for s in self.slots:
            s.runner = self
        self.wake.next = min((s.due for s in running), default=NO_WAKE)

    def activate(self, slot: StrategySlot) -> None:
        for i in slot.instrument_indices:
            if slot.live and slot.started and slot not in self.active[i]:
                self.active[i] = (*self.active[i], slot)

    def trades_seen(self, instrument_index: int) -> int:
        """Trades of that instrument the replay has shown so far."""
        return self.env.seen[instrument_index]

    def _deactivate(self, slot: StrategySlot) -> None:
        slot.active = False
        for i in slot.instrument_indices:
            self.active[i] = tuple(s for s in self.active[i] if s is not slot)

    # -- running ----------------------------------------------------------------------------------
    def run(
        self,
        stop: int,
        clock_to: int,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> int:
        """Apply timeline events up to position ``stop`` and move the clock to ``clock_to``;
        returns how many events were applied. Raises ``Cancelled`` (state consistent, cursor
        synced) when ``cancel()`` says so between chunks."""
        env = self.env
        cursor = env.cursor
        p0 = p = cursor.position
        now = cursor.now
        env.sync_seen()
        self.sampler.next = env.next_sample_after(p)
        self.watchdog.attach()
        try:
            self._start_new(now)
            while p < stop:
                c = min(stop, p + CHUNK)
                ts_l = env.ts[p:c].tolist()
                st_l = env.stream[p:c].tolist()
                it_l = env.item[p:c].tolist()
                j, n = 0, c - p
                while j < n:
                    j = self._hot(ts_l, st_l, it_l, j)
                p = c
                now = max(now, ts_l[-1])
                if p < stop and (progress is not None or cancel is not None):
                    if progress is not None:
                        progress((p - p0) / (stop - p0), "running strategies")
                    if cancel is not None and cancel():
                        self._end_batch(p, now)
                        raise Cancelled("cancelled")
            now = max(now, clock_to)
            self._end_batch(p, now)
        finally:
            self.watchdog.detach()
            env.sync_cursor(p, now)
        return p - p0

    def _start_new(self, now: int) -> None:
        self.clock.now = now
        fresh = [s for s in self.slots if s.live and not s.started]
        for slot in fresh:
            try:
                slot.instantiate()
            except Exception as exc:
                self._fail(slot, exc, f"{slot.cls.__name__}(params)", kind="start")
                continue
            self.rebuild()
            if slot.cb_start is not None:
                self._invoke(slot, slot.cb_start, _NO_ARG, "on_start")
        if fresh:
            self.rebuild()

    def _end_batch(self, p: int, now: int) -> None:
        env = self.env
        upto = now if p >= env.n_events else min(now, int(env.ts[p]) - 1)
        if p >= env.n_events:
            upto = min(upto, env.end_ts)
        self._fire_wakes(upto)
        if p >= env.n_events and now >= env.end_ts and self.running:
            self._stop_all(env.end_ts)
        self.clock.now = now

    def _stop_all(self, end: int) -> None:
        self.clock.now = end
        for slot in self.running:
            if slot.live and slot.cb_stop is not None:
                self._invoke(slot, slot.cb_stop, _NO_ARG, "on_stop")
            if slot.live:
                slot.stopped = True
                slot.stop_ts = end
                slot.sample(end)
        self.rebuild()

    # -- the hot loop -----------------------------------------------------------------------------
    def _hot(self, ts_l: list[int], st_l: list[int], it_l: list[int], j0: int) -> int:
        """Events ``j0..`` of one chunk; returns where to continue (the end when done)."""
        env = self.env
        clock, wake, sampler = self.clock, self.wake, self.sampler
        is_book, is_trade, inst_of, steps, books, seen = (
            env.stream_book,
            env.stream_trade,
            env.stream_inst,
            env.book_steps,
            env.views,
            env.seen,
        )
        book_subs, trade_subs, active = self.book_subs, self.trade_subs, self.active
        fire, sample, trade_of = self._fire_wakes, self._sample, env.trade
        ex_book, ex_trade, other = self._exchange_book, self._exchange_trade, self._other_event
        ctx = None
        j = j0
        try:
            for j in range(j0, len(ts_l)):
                t = ts_l[j]
                if wake.next < t:
                    fire(t - 1)
                clock.now = t
                if t >= sampler.next:
                    sample(t)
                s = st_l[j]
                i = inst_of[s]
                if is_book[s]:
                    steps[i]()  # type: ignore[misc]
                    if active[i]:
                        ex_book(i, t)
                    book = books[i]
                    for cb, ctx in book_subs[i]:
                        cb(ctx, book)
                    ctx = None
                elif is_trade[s]:
                    item = it_l[j]
                    seen[i] = item + 1
                    if active[i] or trade_subs[i]:
                        trade = trade_of(i, item)
                        if active[i]:
                            ex_trade(i, t, trade)
                        for cb, ctx in trade_subs[i]:
                            cb(ctx, trade)
                        ctx = None
                else:
                    other(s, i, it_l[j], t)
        except BaseException as exc:
            return self._recover(exc, ctx, j, st_l)
        return len(ts_l)

    def _recover(self, exc: BaseException, ctx: Any, j: int, st_l: list[int]) -> int:
        """Slow path after an exception escaped the hot loop during event ``j``."""
        if isinstance(exc, KeyboardInterrupt | GeneratorExit):
            raise exc
        aborted = isinstance(exc, StrategyAborted)
        if ctx is None:
            if not aborted:
                raise exc  # not from a strategy callback: a bug in the runner or the exchange
            # The watchdog raises only inside a strategy's own code, so this cannot happen;
            # should it ever, say so rather than hide it.
            self.warnings.append(
                f"a strategy was stopped outside its callback at {self.clock.now}; "
                "other strategies may have missed that event"
            )
            self._abort(exc, None, "callback")
            return j + 1
        s = st_l[j]
        i = self.env.stream_inst[s]
        book_event = self.env.stream_book[s]
        subs = self.book_subs[i] if book_event else self.trade_subs[i]
        name = "on_book" if book_event else "on_trade"
        slot = ctx._slot
        if aborted:
            self._abort(exc, slot, name)
        else:
            self._fail(slot, exc, name, from_callback=True)
        arg = self.env.views[i] if book_event else self.env.trade_views[i]
        k = next((n for n, (_, c) in enumerate(subs) if c is ctx), len(subs))
        for cb, other in subs[k + 1 :]:
            if other._slot.live:
                self._invoke(other._slot, cb, arg, name)
        return j + 1

    # -- slow paths -------------------------------------------------------------------------------
    def _other_event(self, s: int, i: int, item: int, t: int) -> None:
        """A derivative ticker row, a liquidation or a funding settlement (callbacks isolated)."""
        kind = self.env.stream_kind[s]
        if kind is EventKind.TICKER:
            if self.ticker_subs[i]:
                self._notify(self.ticker_subs[i], self.env.ticker(i, item), "on_ticker")
        elif kind is EventKind.LIQUIDATION:
            if self.liquidation_subs[i]:
                self._notify(self.liquidation_subs[i], self.env.liquidation(i, item), "on_liquidation")
        elif kind is EventKind.FUNDING:
            ev = self.env.funding(i, item)
            for slot in self.holders[i]:
                if slot.live:
                    amount = slot.settle_funding(i, t, ev.rate, ev.mark)
                    if amount:
                        slot.sample(t)
                        slot.logs.append(
                            t,
                            f"funding {self.env.infos[i].name}: rate {ev.rate:+.6%} at mark {ev.mark:g}: "
                            f"{'received' if amount > 0 else 'paid'} {abs(amount):.6g}",
                        )

    def _notify(self, subs: Sequence[tuple[Callable[..., Any], Any]], value: object, name: str) -> None:
        """Every live subscriber of a ticker or liquidation stream gets ``value``, isolated."""
        for cb, ctx in subs:
            if ctx._slot.live:
                self._invoke(ctx._slot, cb, value, name)

    def _exchange_book(self, i: int, t: int) -> None:
        book = self.env.books[i]
        inst = self.env.instruments[i]
        gap = inst.unreliable_at(t) if inst.sequence_gaps else None
        unreliable = "" if gap is None else f"the book is unreliable after a sequence gap ({gap.reason})"
        for slot in self.active[i]:
            if not slot.live:
                continue
            ex = slot.exchanges[i] if slot.multi else slot.exchange
            ex.unreliable = unreliable  # no fills against a book that is out of sequence
            try:
                ex.on_book(t, book)  # type: ignore[arg-type]
                events = ex.poll(t)
            except Exception as exc:
                self._fail(slot, exc, "exchange.on_book", kind="exchange")
                continue
            if events:
                self._deliver(slot, events, i)
            slot.refresh_due()

    def _exchange_trade(self, i: int, t: int, trade: Any) -> None:
        for slot in self.active[i]:
            if not slot.live:
                continue
            ex = slot.exchanges[i] if slot.multi else slot.exchange
            try:
                ex.on_trade(t, trade.side, trade.price, trade.amount)
                events = ex.poll(t)
            except Exception as exc:
                self._fail(slot, exc, "exchange.on_trade", kind="exchange")
                continue
            if events:
                self._deliver(slot, events, i)
            slot.refresh_due()

    def _deliver(self, slot: StrategySlot, events: list[Event], index: int | None = None) -> None:
        """Responses the account has just applied: sample the account once, then call back."""
        now: int = self.clock.now
        sampled = False
        for ev in events:
            if ev.__class__ is Fill:
                if slot.multi:  # single-instrument fills are the account's own list
                    slot.record_fill(slot.instrument_index if index is None else index, ev)
                if not sampled:
                    slot.sample(now)
                    sampled = True
                if slot.cb_fill is not None and slot.live:
                    self._invoke(slot, slot.cb_fill, ev, "on_fill")
            else:
                if ev.__class__ is Reject:
                    slot.logs.append(now, f"{ev.request} {ev.order_id} rejected: {ev.reason}")
                if slot.cb_order is not None and slot.live:
                    self._invoke(slot, slot.cb_order, ev, "on_order")
        if slot.exchange_idle():
            self._deactivate(slot)

    def _fire_wakes(self, upto: int) -> None:
        """Every wake-up due at or before ``upto``, in time order (strategies in slot order)."""
        wake, clock = self.wake, self.clock
        last, rounds = None, 0
        while wake.next <= upto:
            w = wake.next
            rounds = rounds + 1 if w == last else 0
            last = w
            clock.now = w
            for slot in self.running:
                if slot.due <= w and slot.live:
                    if rounds > RUNAWAY_ROUNDS:
                        self._runaway(slot, w)
                    else:
                        self._wake_slot(slot, w)
            wake.next = min((s.due for s in self.running if s.live), default=NO_WAKE)

    def _wake_slot(self, slot: StrategySlot, w: int) -> None:
        if slot.ex_due <= w and not slot.multi:
            ex = slot.exchange
            try:
                ex.advance(w)
                events = ex.poll(w)
            except Exception as exc:
                self._fail(slot, exc, "exchange.advance", kind="exchange")
                return
            if events:
                self._deliver(slot, events)
            slot.refresh_due()
        elif slot.ex_due <= w:
            for i, ex in slot.exchanges.items():
                due = ex.next_due()
                if due is None or due > w:
                    continue
                try:
                    ex.advance(w)
                    events = ex.poll(w)
                except Exception as exc:
                    self._fail(slot, exc, "exchange.advance", kind="exchange")
                    return
                if events:
                    self._deliver(slot, events, i)
            slot.refresh_due()
        timers = slot.timers
        while timers and timers[0] <= w and slot.live:
            heapq.heappop(timers)
            if slot.cb_timer is not None:
                self._invoke(slot, slot.cb_timer, _NO_ARG, "on_timer")
        slot.update_due()

    def _sample(self, t: int) -> None:
        step = self.env.sample_us
        self.sampler.next = t // step * step + step
        for slot in self.running:
            if slot.live:
                slot.sample_grid(t)

    def _invoke(self, slot: StrategySlot, fn: Callable[..., Any], arg: Any, name: str) -> bool:
        ctx = slot.ctx
        try:
            if arg is _NO_ARG:
                fn(ctx)
            else:
                fn(ctx, arg)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt | GeneratorExit):
                raise
            if isinstance(exc, StrategyAborted):
                self._abort(exc, slot, name)
            else:
                self._fail(slot, exc, name, from_callback=True)
            return False
        return True

    # -- failures ---------------------------------------------------------------------------------
    def _abort(self, exc: BaseException, slot: StrategySlot | None, callback: str) -> None:
        pending = self.watchdog.take()
        kind, message = "aborted", "stopped"
        if pending is not None:
            ctx, kind, message = pending
            slot = ctx._slot
        if slot is not None and slot.live:
            self._fail(slot, exc, callback, kind=kind, message=message)

    def _runaway(self, slot: StrategySlot, w: int) -> None:
        message = (
            f"kept reacting to its own orders or timers at one instant ({RUNAWAY_ROUNDS} rounds at {w}); "
            "with zero latency a strategy must not answer every fill with a new order"
        )
        self._fail(slot, None, "wake-up", kind="runaway", message=message)

    def _fail(
        self,
        slot: StrategySlot,
        exc: BaseException | None,
        callback: str,
        *,
        kind: str = "exception",
        message: str | None = None,
        from_callback: bool = False,
    ) -> None:
        error = StrategyError.from_exception(
            self.clock.now, callback, exc, kind=kind, message=message, skip_first_frame=from_callback
        )
        slot.fail(error)
        self.rebuild()
