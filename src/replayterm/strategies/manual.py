"""Trading by hand in the replay: a recorded list of clicks, replayed as orders.

Each click is a command at a replay time (µs): ``limit`` (side, price, size), ``market`` (side,
size), ``cancel`` or ``move`` (``ref`` = the number of the limit click whose order it acts on;
``move`` gives the new price). A ``limit`` or ``market`` may carry a bracket: ``tp`` and ``sl`` are
price distances from each entry fill; the take-profit rests as a limit order, the stop is watched
on the book (the best price on the other side reaching it) and closes with a market order, and
whichever fills first cancels the other. Commands run in the order they were clicked, each after
every event up to its time, through the same simulated exchange (latency, queue, fees) as any
strategy, in an account of its own. So the same clicks at the same replay times give the same
fills: the app records clicks into ``clicks`` and re-runs this strategy with them, and
``replayterm backtest --strategy manual --param clicks=@clicks.json`` does the same headless.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from replayterm.core.execution.orders import BUY, SELL
from replayterm.core.strategy import Fill, Strategy, StrategyContext

ACTIONS = ("limit", "market", "cancel", "move")


@dataclass
class ManualParams:
    clicks: str = "[]"  # JSON list of commands (or @path of a JSON file)


@dataclass
class Click:
    t: int
    action: str
    side: int = 0
    price: float | None = None
    size: float = 0.0
    ref: int | None = None
    tp: float | None = None
    sl: float | None = None


@dataclass
class _Bracket:
    side: int  # of the exit orders (opposite of the entry)
    amount: float
    tp_id: int | None
    stop: float | None


@dataclass
class _State:
    order_of: dict[int, int] = field(default_factory=dict)  # click number -> live order id
    click_of: dict[int, Click] = field(default_factory=dict)  # order id -> the click that sent it
    filled: dict[int, float] = field(default_factory=dict)  # order id -> amount filled
    brackets: list[_Bracket] = field(default_factory=list)


def parse_clicks(text: str) -> list[Click]:
    """The commands of ``text`` (JSON, or ``@file.json``); ValueError says what is wrong."""
    raw = text.strip()
    if raw.startswith("@"):
        raw = Path(raw[1:]).read_text("utf-8")
    try:
        items = json.loads(raw or "[]")
    except json.JSONDecodeError as exc:
        raise ValueError(f"clicks are not JSON: {exc}") from None
    if not isinstance(items, list):
        raise ValueError("clicks must be a JSON list of commands")
    out = []
    for n, item in enumerate(items):
        if not isinstance(item, dict) or item.get("action") not in ACTIONS or "t" not in item:
            raise ValueError(f"click {n}: needs 't' (µs) and 'action' (one of {', '.join(ACTIONS)})")
        side = {"buy": BUY, "sell": SELL, 1: BUY, -1: SELL}.get(item.get("side", 0), 0)
        c = Click(
            int(item["t"]),
            item["action"],
            side,
            None if item.get("price") is None else float(item["price"]),
            float(item.get("size", 0.0)),
            None if item.get("ref") is None else int(item["ref"]),
            None if item.get("tp") is None else float(item["tp"]),
            None if item.get("sl") is None else float(item["sl"]),
        )
        if c.action in ("limit", "market") and (side == 0 or not c.size > 0):
            raise ValueError(f"click {n}: a {c.action} order needs side buy/sell and a positive size")
        if c.action in ("limit", "move") and not (c.price is not None and c.price > 0):
            raise ValueError(f"click {n}: a {c.action} needs a positive price")
        if c.action in ("cancel", "move") and (c.ref is None or not 0 <= c.ref < n):
            raise ValueError(f"click {n}: {c.action} needs 'ref', the number of an earlier limit click")
        out.append(c)
    return out


class ManualTrading(Strategy):
    name = "manual"
    Params = ManualParams

    def __init__(self, params: ManualParams | None = None) -> None:
        super().__init__(params)
        self.clicks = parse_clicks(self.params.clicks)
        # run in time order; clicks at one time keep the order they were made in
        self.order = sorted(range(len(self.clicks)), key=lambda k: (self.clicks[k].t, k))
        self.next = 0
        self.state = _State()

    def on_start(self, ctx: StrategyContext) -> None:
        self._run_due(ctx)

    def on_timer(self, ctx: StrategyContext) -> None:
        self._run_due(ctx)

    def _run_due(self, ctx: StrategyContext) -> None:
        while self.next < len(self.order) and self.clicks[self.order[self.next]].t <= ctx.now:
            k = self.order[self.next]
            self.next += 1
            self._apply(ctx, k, self.clicks[k])
        if self.next < len(self.order):
            ctx.set_timer(self.clicks[self.order[self.next]].t - ctx.now)

    def _apply(self, ctx: StrategyContext, k: int, c: Click) -> None:
        s = self.state
        if c.action == "market":
            oid = ctx.submit(_market(c.side, c.size, f"click {k}"))
        elif c.action == "limit":
            oid = (ctx.buy if c.side == BUY else ctx.sell)(c.size, c.price, tag=f"click {k}")
        elif c.action == "cancel":
            target = s.order_of.get(c.ref if c.ref is not None else -1)
            if target is not None:
                ctx.cancel(target)
            return
        else:  # move: cancel, then the rest of the order at the new price
            ref = c.ref if c.ref is not None else -1
            target = s.order_of.get(ref)
            if target is None:
                return
            origin = s.click_of[target]
            left = origin.size - s.filled.get(target, 0.0)
            ctx.cancel(target)
            if left <= 1e-12:
                return
            moved = Click(c.t, "limit", origin.side, c.price, left, None, origin.tp, origin.sl)
            oid = (ctx.buy if origin.side == BUY else ctx.sell)(left, c.price, tag=f"click {ref} moved")
            s.order_of[ref] = oid
            s.click_of[oid] = moved
            return
        s.order_of[k] = oid
        s.click_of[oid] = c

    def on_fill(self, ctx: StrategyContext, fill: Fill) -> None:
        s = self.state
        s.filled[fill.order_id] = s.filled.get(fill.order_id, 0.0) + fill.amount
        c = s.click_of.get(fill.order_id)
        if c is not None and (c.tp is not None or c.sl is not None):
            exit_side = -c.side
            tp_id = None
            if c.tp is not None:
                target = fill.price - exit_side * c.tp  # a sell exit sits above a long entry
                tp_id = (ctx.buy if exit_side == BUY else ctx.sell)(
                    fill.amount, _tick(ctx, target), tag="take profit"
                )
            stop = None if c.sl is None else fill.price + exit_side * c.sl
            s.brackets.append(_Bracket(exit_side, fill.amount, tp_id, stop))
            return
        for b in list(s.brackets):  # a take-profit filled: its stop is no longer needed
            if b.tp_id == fill.order_id and fill.leaves <= 1e-12:
                s.brackets.remove(b)

    def on_book(self, ctx: StrategyContext, book: Any) -> None:
        s = self.state
        if not s.brackets:
            return
        for b in list(s.brackets):
            if b.stop is None:
                continue
            touch = ctx.book.best_bid() if b.side == SELL else ctx.book.best_ask()  # type: ignore[union-attr]
            if touch is None:
                continue
            price = touch[0]
            hit = price <= b.stop if b.side == SELL else price >= b.stop
            if hit:
                if b.tp_id is not None:
                    ctx.cancel(b.tp_id)
                ctx.submit(_market(b.side, b.amount, "stop"))
                s.brackets.remove(b)


def _market(side: int, size: float, tag: str) -> Any:
    from replayterm.core.execution.orders import Order

    return Order.market(side, size, tag)


def _tick(ctx: StrategyContext, price: float) -> float:
    tick = ctx.tick_size
    if not (tick > 0 and math.isfinite(tick)):
        return price
    decimals = max(0, -math.floor(math.log10(tick)) + 1)
    return round(round(price / tick) * tick, decimals)
