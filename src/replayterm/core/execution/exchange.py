"""The simulated exchange: one account's orders against one symbol's replayed book.

Everything happens in simulated time on the replay (``local_ts``) axis, driven by the replay:

    for each step of the timeline at time t (trades at t come before the book message at t):
        ex.advance(t - 1)                  # due work before t, on the book as it was before t
        trade:        ex.on_trade(t, side, price, amount)
        book message: apply it to the book, then ex.on_book(t, book)
        for event in ex.poll(t): ...       # responses the strategy may see at t (account updated)
        strategy callbacks at t may call ex.submit(t, order) / ex.cancel(t, order_id)
    at a timer, a wake-up from ex.next_due() or the end of a batch at t, once everything
    stamped <= t is applied: ex.advance(t); ex.poll(t)

``advance(ts)`` processes order and cancel arrivals due at or before ``ts`` against the book as
it is at the call, so it must be called before the book moves past ``ts``: ``on_book`` raises if
an arrival before its time was left unprocessed. At equal times market data goes first: an order
arriving at ``t`` meets the book after the message at ``t``, and is not filled by trades at ``t``.

Orders and cancels travel in order (a later request never overtakes an earlier one) and so do
responses. Our orders never change the replayed book, and they do not interact with each other.
What the account took from a level stays consumed for that account until the replayed book
changes that level (``FillRules.own_liquidity``); ``execution.rules`` documents every fill rule.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from replayterm.core.book.view import BookView
from replayterm.core.execution.account import AMOUNT_TOLERANCE, Account
from replayterm.core.execution.exact_queue import ExactQueue
from replayterm.core.execution.facts import FILLED, NOT_FILLED, REJECTED, OrderFacts
from replayterm.core.execution.fees import FeeSchedule
from replayterm.core.execution.latency import ConstantLatency, LatencyModel
from replayterm.core.execution.orders import (
    BUY,
    Ack,
    Cancelled,
    Event,
    Fill,
    Liquidity,
    Order,
    OrderType,
    Reject,
    TimeInForce,
)
from replayterm.core.execution.queue import QueueModel, RiskAverseQueue, queue_name
from replayterm.core.execution.rules import FillRules, on_tick, passive_tick

# Prices within this relative distance are the same price (strategy arithmetic leaves float dust).
PRICE_TOLERANCE = 1e-9
_FIRST_WALK_LEVELS = 64


@dataclass(slots=True)
class _Request:
    arrival: int
    order_id: int
    order: Order | None  # None: a cancel


@dataclass(slots=True)
class _Resting:
    order_id: int
    side: int
    price: float
    amount: float
    leaves: float
    ahead: float  # estimated size ahead of us in the queue at our price
    level_size: float  # size at our price when we last looked
    traded: float  # trade volume at our price since we last looked
    crossed: bool  # the opposite best was at or through our price when we last looked
    mark: int = -1  # exact queue (MBO data): where in the real FIFO the order joined


@dataclass(frozen=True, slots=True)
class RestingOrder:
    """Exchange-side state of a resting order, for display (ladder markers, queue position).
    A strategy must not trade on it: it is what the exchange knows, not what the strategy heard."""

    order_id: int
    side: int
    price: float
    leaves: float
    queue_ahead: float
    level_size: float


def _reaches(side: int, level_price: float, limit: float) -> bool:
    """Whether an order of ``side`` with price ``limit`` can trade at ``level_price``."""
    tol = PRICE_TOLERANCE * abs(limit)
    return level_price <= limit + tol if side == BUY else level_price >= limit - tol


def _same_price(a: float, b: float) -> bool:
    return abs(a - b) <= PRICE_TOLERANCE * max(abs(a), abs(b))


def snap_to_tick(price: float, tick: float) -> float:
    """Nearest multiple of ``tick``, computed so that decimal ticks give the same float as the
    printed price (63867.3 with tick 0.1 is 638673 / 10, not 638673 × 0.1)."""
    inverse = 1.0 / tick
    if abs(inverse - round(inverse)) < 1e-9:
        return round(price * inverse) / round(inverse)
    return round(price / tick) * tick


class SimExchange:
    """Simulated exchange for one account and one symbol. See the module docstring for how to
    drive it. Deterministic: the same calls give the same responses."""

    def __init__(
        self,
        account: Account | None = None,
        *,
        latency: LatencyModel | None = None,
        fees: FeeSchedule | None = None,
        queue: QueueModel | None = None,
        book: BookView | None = None,
        tick_size: float | None = None,
        rules: FillRules | None = None,
        exact: ExactQueue | None = None,
    ) -> None:
        if tick_size is not None and not tick_size > 0:
            raise ValueError(f"tick size must be > 0, got {tick_size!r}")
        self.account = account if account is not None else Account()
        self.latency: LatencyModel = latency if latency is not None else ConstantLatency()
        self.fees = fees if fees is not None else FeeSchedule()
        self.queue: QueueModel = queue if queue is not None else RiskAverseQueue()
        # On market-by-order data the queue ahead is read from the real FIFO instead of a model.
        self.exact = exact
        self.tick_size = tick_size
        self.rules = rules if rules is not None else FillRules()
        self._book = book
        # (book side, price) -> [size this account consumed there, level size when it did]
        self._consumed: dict[tuple[int, float], list[float]] = {}
        self._now: int | None = None
        self._requests: deque[_Request] = deque()
        self._responses: deque[Event] = deque()
        self._last_arrival: int | None = None
        self._last_visible: int | None = None
        self._resting: dict[int, _Resting] = {}
        # What explains each order's outcome (the order inspector, orders.csv, ``explain``).
        self.facts: dict[int, OrderFacts] = {}
        self._queue_name = "exact (FIFO)" if exact is not None else queue_name(self.queue)

    # -- strategy side --------------------------------------------------------------------------
    @property
    def now(self) -> int | None:
        """The latest simulated time the exchange has been told about."""
        return self._now

    def submit(self, ts: int, order: Order) -> int:
        """Send ``order`` decided at ``ts``; returns its client order id (from the account)."""
        ts = int(ts)
        self._check_not_past(ts, "submit")
        tick = self.tick_size
        if tick is not None and order.price is not None:
            if on_tick(order.price, tick):
                # Same price without the float dust of strategy arithmetic (book lookups are exact).
                price = snap_to_tick(order.price, tick)
            elif self.rules.off_tick == "passive":
                price = passive_tick(order.side, order.price, tick)
            else:
                price = order.price  # rejected when it arrives, as the exchange would
            if price != order.price:
                order = Order(order.side, order.amount, order.order_type, price, order.tif, order.tag)
        oid = self.account.new_order_id()
        self.account.record_submit(oid, order, ts)
        self.facts[oid] = OrderFacts(
            oid, order.side, order.order_type.value.lower(), order.tif.value, order.price, order.amount, ts,
            self._queue_name,
        )  # fmt: skip
        self._send(ts, oid, order)
        return oid

    def cancel(self, ts: int, order_id: int) -> bool:
        """Send a cancel decided at ``ts``. False (nothing sent) when the account already knows the
        order is finished. The order may still fill until the cancel arrives."""
        ts = int(ts)
        self._check_not_past(ts, "cancel")
        state = self.account.orders.get(order_id)
        if state is None:
            raise ValueError(f"order id {order_id} was never submitted by this account")
        if not state.is_open:
            return False
        self.account.record_cancel_request(order_id)
        self._send(ts, order_id, None)
        return True

    def cancel_all(self, ts: int) -> int:
        """Cancel every order the account believes open; returns how many cancels were sent."""
        return sum(self.cancel(ts, s.order_id) for s in self.account.open_orders() if not s.cancel_requested)

    def poll(self, ts: int) -> list[Event]:
        """Responses visible at or before ``ts``, in order; each is applied to the account first."""
        out: list[Event] = []
        while self._responses and self._responses[0].local_ts <= ts:
            event = self._responses.popleft()
            self.account.apply(event)
            out.append(event)
        return out

    def next_due(self) -> int | None:
        """The earliest time at which an arrival or a response is due (None when idle). A replay
        that wakes at it (``advance(t); poll(t)``) delivers responses exactly on time."""
        due = [self._requests[0].arrival] if self._requests else []
        if self._responses:
            due.append(self._responses[0].local_ts)
        return min(due) if due else None

    def resting_orders(self) -> list[RestingOrder]:
        return [
            RestingOrder(r.order_id, r.side, r.price, r.leaves, r.ahead, r.level_size)
            for r in self._resting.values()
        ]

    def resting_ids(self) -> list[int]:
        return list(self._resting)

    def queue_positions(self) -> dict[int, tuple[float, float]]:
        """order id -> (size ahead, level size) of every resting order (cheap: no objects)."""
        return {oid: (r.ahead, r.level_size) for oid, r in self._resting.items()}

    # -- replay side ----------------------------------------------------------------------------
    def advance(self, ts: int) -> None:
        """Process arrivals due at or before ``ts`` against the current book (see module docstring)."""
        ts = int(ts)
        if self._now is None or ts > self._now:
            self._now = ts
        self._process_arrivals(ts)

    def on_trade(self, ts: int, side: int, price: float, amount: float) -> None:
        """A public trade: ``side`` is the taker side (+1 buy, -1 sell, 0 unknown: inferred from
        the best prices, ignored when it cannot be)."""
        ts = int(ts)
        self._move_clock(ts)
        # A trade does not change the book, so arrivals before ts can still be processed here.
        self._process_arrivals(ts - 1)
        if not self._resting or amount <= 0:
            return
        taker = side if side in (1, -1) else self._infer_taker(price)
        if taker == 0:
            return
        maker = -taker
        given = 0.0  # volume of this trade already credited to our own orders at this price
        for r in list(self._resting.values()):
            if r.side != maker:
                continue
            if _same_price(price, r.price):
                facts = self.facts.get(r.order_id)
                if facts is not None:
                    facts.trades_ts.append(ts)
                    facts.trades_amount.append(amount)
                r.traded += amount
                execute = min(r.leaves, max(amount - r.ahead - given, 0.0))
                r.ahead = max(r.ahead - amount, 0.0)
                # Sizes are decimal amounts held in binary floats: a trade equal to the queue
                # ahead of us leaves float dust (1e-15), which is not a fill.
                dust = AMOUNT_TOLERANCE * max(amount, r.amount)
                if r.ahead <= dust:
                    r.ahead = 0.0
                if execute > dust:
                    given += execute
                    self._fill_resting(ts, r, execute)
                if r.order_id in self._resting:
                    self._note_queue(ts, r)
            elif _reaches(r.side, price, r.price):
                # The trade printed beyond our price: everything at our price went first.
                self._through(r)
                self._fill_resting(ts, r, r.leaves)

    # Set by the runner before each book message: why the book cannot be trusted now (a raw
    # recording's sequence gap not re-synced yet), "" when it can. Nothing fills against such a
    # book: arriving orders are rejected, resting ones neither cross nor move in the queue.
    unreliable: str = ""

    def on_book(self, ts: int, book: BookView) -> None:
        """After each complete book message at ``ts``: queue positions and crossing fills."""
        ts = int(ts)
        if self._requests and self._requests[0].arrival < ts:
            raise RuntimeError(
                f"an order arriving at {self._requests[0].arrival} was not processed before the book "
                f"message at {ts}: call advance(ts - 1) before applying a message to the book"
            )
        self._move_clock(ts)
        self._book = book
        if self._consumed:
            self._forget_changed_levels(book)
        if not self._resting or self.unreliable:
            return
        bid, ask = book.best_bid(), book.best_ask()
        full = self.rules.through == "full"
        for r in list(self._resting.values()):
            opposite = ask if r.side == BUY else bid
            crossed = opposite is not None and _reaches(r.side, opposite[0], r.price)
            if crossed and full and not r.crossed:
                # The book moved through our level: the whole queue there, us included, traded.
                self._through(r)
                self._fill_resting(ts, r, r.leaves)
                continue
            if crossed and not full:
                # Only the liquidity shown at prices that cross us could have met our order.
                self._through(r)
                self._fill_through(ts, book, r)
                if r.order_id not in self._resting:
                    continue
            r.crossed = crossed
            size = book.size_at(r.side, r.price)
            if self.exact is not None:
                r.ahead = min(self.exact.ahead(book, r.side, r.price, r.mark), size)
                r.level_size = size
                r.traded = 0.0
            elif size != r.level_size:
                r.ahead = self.queue.on_depth(r.ahead, r.level_size, size, r.traded)
                r.level_size = size
                r.traded = 0.0
            self._note_queue(ts, r)

    def order_facts(self) -> list[OrderFacts]:
        """Every order's facts so far; an order still resting says so with its queue now."""
        book = self._book
        for oid, r in self._resting.items():
            facts = self.facts.get(oid)
            if facts is not None:
                facts.ahead_at_end = r.ahead
                facts.reason = facts._sentence(self._price_left(book, r))
        return list(self.facts.values())

    # -- internals ------------------------------------------------------------------------------
    def _check_not_past(self, ts: int, what: str) -> None:
        if self._now is not None and ts < self._now:
            raise ValueError(f"{what} at {ts} is before the exchange's time {self._now}")

    def _move_clock(self, ts: int) -> None:
        if self._now is not None and ts < self._now:
            raise ValueError(f"market event at {ts} is before the exchange's time {self._now}")
        self._now = ts

    def _send(self, ts: int, order_id: int, order: Order | None) -> None:
        arrival = ts + int(self.latency.entry(ts))
        if self._last_arrival is not None and arrival < self._last_arrival:
            arrival = self._last_arrival
        self._last_arrival = arrival
        self._requests.append(_Request(arrival, order_id, order))

    def _respond(self, exch_ts: int) -> int:
        """When a response produced at ``exch_ts`` reaches the strategy."""
        visible = exch_ts + int(self.latency.response(exch_ts))
        if self._last_visible is not None and visible < self._last_visible:
            visible = self._last_visible
        self._last_visible = visible
        return visible

    def _process_arrivals(self, upto: int) -> None:
        while self._requests and self._requests[0].arrival <= upto:
            req = self._requests.popleft()
            if req.order is None:
                self._cancel_arrives(req.arrival, req.order_id)
            else:
                self._order_arrives(req.arrival, req.order_id, req.order)

    def _cancel_arrives(self, t: int, oid: int) -> None:
        r = self._resting.pop(oid, None)
        if r is None:
            reason = "order is not open at the exchange (already filled, cancelled or rejected)"
            self._responses.append(Reject(self._respond(t), t, oid, reason, request="cancel"))
        else:
            self._responses.append(Cancelled(self._respond(t), t, oid, r.leaves, "cancelled on request"))
            self._finish(oid, t, NOT_FILLED, "cancelled on request", r.ahead, self._price_left(self._book, r))

    def _order_arrives(self, t: int, oid: int, order: Order) -> None:
        book = self._book
        facts = self.facts.get(oid)
        if facts is not None:
            facts.arrival_ts = t
        if book is None:
            self._responses.append(Reject(self._respond(t), t, oid, "no market data yet"))
            self._finish(oid, t, REJECTED, "no market data yet when it arrived")
            return
        if self.unreliable:
            reason = f"{self.unreliable}: no fills against it until a snapshot re-syncs it"
            self._responses.append(Reject(self._respond(t), t, oid, reason))
            return
        if order.order_type is OrderType.MARKET:
            self._responses.append(Ack(self._respond(t), t, oid))
            leaves = self._take(book, t, oid, order.side, order.amount, None)
            if leaves > 0.0:
                why = "no liquidity" if leaves == order.amount else "book too thin: remainder cancelled"
                self._responses.append(Cancelled(self._respond(t), t, oid, leaves, why))
            self._finish(oid, t, NOT_FILLED, "the book had no liquidity" if leaves == order.amount else
                         "the book was too thin: the remainder was cancelled")  # fmt: skip
            return
        assert order.price is not None
        if self.tick_size is not None and not on_tick(order.price, self.tick_size):
            reason = (
                f"price {order.price!r} is not a multiple of the tick size {self.tick_size!r} "
                "(the instrument's smallest price step in the data)"
            )
            self._responses.append(Reject(self._respond(t), t, oid, reason))
            self._finish(oid, t, REJECTED, f"price {order.price!r} not on the {self.tick_size!r} tick")
            return
        top = book.best_ask() if order.side == BUY else book.best_bid()
        crosses = top is not None and _reaches(order.side, top[0], order.price)
        if crosses and order.tif is TimeInForce.POST_ONLY:
            assert top is not None
            reason = f"post-only order at {order.price} would take liquidity (opposite best {top[0]})"
            self._responses.append(Reject(self._respond(t), t, oid, reason))
            self._finish(
                oid, t, REJECTED, f"post-only at {order.price} would have taken liquidity (best {top[0]})"
            )
            return
        self._responses.append(Ack(self._respond(t), t, oid))
        leaves = self._take(book, t, oid, order.side, order.amount, order.price) if crosses else order.amount
        if leaves == 0.0:
            self._finish(oid, t, FILLED)
            return
        if order.tif is TimeInForce.IOC:
            self._responses.append(Cancelled(self._respond(t), t, oid, leaves, "IOC remainder"))
            self._finish(oid, t, NOT_FILLED, "IOC remainder")
            return
        size = book.size_at(order.side, order.price)
        ahead, mark = size, -1
        if self.exact is not None:
            mark, ahead = self.exact.join(book, order.side, order.price)
            ahead = min(ahead, size)
        self._resting[oid] = _Resting(
            oid, order.side, order.price, order.amount, leaves, ahead, size, 0.0, crossed=crosses, mark=mark
        )
        if facts is not None:
            facts.ahead_at_arrival = ahead
            facts.level_at_arrival = size
            facts.queue(t, ahead)

    def _take(self, book: BookView, t: int, oid: int, side: int, amount: float, limit: float | None) -> float:
        """Walk the opposite side best first up to ``limit``; returns what is left (0.0 when done)."""
        leaves = amount
        done = 0
        n = _FIRST_WALK_LEVELS
        own = self.rules.own_liquidity
        while True:
            levels = book.levels(-side, n)
            for i in range(done, levels.shape[0]):
                price, size = float(levels[i, 0]), float(levels[i, 1])
                if limit is not None and not _reaches(side, price, limit):
                    return leaves
                available = self._available(-side, price, size) if own else size
                if available <= 0.0:
                    continue
                qty = min(leaves, available)
                if leaves - qty <= AMOUNT_TOLERANCE * amount:
                    qty = leaves  # what would stay open is float dust: the fill is the whole rest
                leaves -= qty
                if leaves <= AMOUNT_TOLERANCE * amount:
                    leaves = 0.0
                if own:
                    self._consume(-side, price, size, qty)
                fill_price = self.fees.taker_price(side, price)
                if limit is not None:  # slippage never takes a fill beyond the limit price
                    fill_price = min(fill_price, limit) if side == BUY else max(fill_price, limit)
                self._emit_fill(t, oid, side, fill_price, qty, Liquidity.TAKER, leaves)
                if leaves == 0.0:
                    return 0.0
            if levels.shape[0] < n:
                return leaves
            done = levels.shape[0]
            n *= 8

    def _fill_through(self, t: int, book: BookView, r: _Resting) -> None:
        """Conservative through-fill: take from the opposite levels at prices that cross ``r``,
        best first, what this account has not consumed there yet; fills are at our price."""
        levels = book.levels(-r.side, _FIRST_WALK_LEVELS)
        for i in range(levels.shape[0]):
            price, size = float(levels[i, 0]), float(levels[i, 1])
            if not _reaches(r.side, price, r.price):
                return
            available = self._available(-r.side, price, size)
            if available <= 0.0:
                continue
            qty = min(r.leaves, available)
            self._consume(-r.side, price, size, qty)
            self._fill_resting(t, r, qty)
            if r.order_id not in self._resting:
                return

    def _available(self, side: int, price: float, size: float) -> float:
        """Size at a level of ``side`` this account has not consumed yet."""
        entry = self._consumed.get((side, price))
        if entry is None:
            return size
        if entry[1] != size:  # the replayed book changed the level since: fresh liquidity
            del self._consumed[(side, price)]
            return size
        return max(size - entry[0], 0.0)

    def _consume(self, side: int, price: float, size: float, qty: float) -> None:
        entry = self._consumed.get((side, price))
        if entry is None or entry[1] != size:
            self._consumed[(side, price)] = [qty, size]
        else:
            entry[0] += qty

    def _forget_changed_levels(self, book: BookView) -> None:
        for key, (_, size) in list(self._consumed.items()):
            if book.size_at(key[0], key[1]) != size:
                del self._consumed[key]

    def _fill_resting(self, t: int, r: _Resting, amount: float) -> None:
        qty = min(amount, r.leaves)
        if r.leaves - qty <= AMOUNT_TOLERANCE * r.amount:
            qty = r.leaves  # what would stay open is float dust: the fill is the whole rest
        r.leaves -= qty
        if r.leaves <= AMOUNT_TOLERANCE * r.amount:
            r.leaves = 0.0
            del self._resting[r.order_id]
        self._emit_fill(t, r.order_id, r.side, r.price, qty, Liquidity.MAKER, r.leaves)
        if r.leaves == 0.0:
            self._finish(r.order_id, t, FILLED, ahead=0.0)

    def _emit_fill(
        self, t: int, oid: int, side: int, price: float, qty: float, liquidity: Liquidity, leaves: float
    ) -> None:
        fee = self.fees.fee(price, qty, liquidity)
        facts = self.facts.get(oid)
        if facts is not None:
            facts.fills_ts.append(t)
            facts.fills_amount.append(qty)
            facts.fills_price.append(price)
            facts.fills_maker.append(liquidity is Liquidity.MAKER)
        self._responses.append(Fill(self._respond(t), t, oid, side, price, qty, fee, liquidity, leaves))

    def _note_queue(self, ts: int, r: _Resting) -> None:
        facts = self.facts.get(r.order_id)
        if facts is not None:
            facts.queue(ts, r.ahead)

    def _through(self, r: _Resting) -> None:
        facts = self.facts.get(r.order_id)
        if facts is not None:
            facts.through = True

    def _finish(
        self, oid: int, t: int, outcome: str, how: str = "", ahead: float | None = None, left: bool = False
    ) -> None:
        facts = self.facts.get(oid)
        if facts is not None:
            facts.finish(t, outcome, how, ahead, left)

    @staticmethod
    def _price_left(book: BookView | None, r: _Resting) -> bool:
        """The touch on our side moved away from our price (a buy's best bid above it)."""
        if book is None:
            return False
        top = book.best_bid() if r.side == BUY else book.best_ask()
        if top is None:
            return False
        return top[0] > r.price if r.side == BUY else top[0] < r.price

    def _infer_taker(self, price: float) -> int:
        book = self._book
        if book is None:
            return 0
        ask, bid = book.best_ask(), book.best_bid()
        if ask is not None and price >= ask[0]:
            return 1
        if bid is not None and price <= bid[0]:
            return -1
        return 0
