"""Queue models measured against the truth: the same simulated orders on the L2 view of an MBO
file under every L2 queue model and under the exact FIFO position (``exact_queue``).

The plan is fixed by the market alone, so every model sees the same orders: every ``every_s``
seconds of replay time a one-lot post-only buy at the best bid and a sell at the best ask, each
resting until it fills or ``horizon_s`` passes (then it is cancelled). Orders never change the
replayed book and do not interact, so one exchange per model carries them all.

Reported per model:
- queue-ahead error: at every book message while an order rests under both the model and the
  exact queue, ``|ahead_model - ahead_exact| / level size``; median and p90 over all samples,
  and the signed mean (bias: > 0 means the model believes more is ahead than there is);
- fill-rate error: share of orders the model fills minus the share the exact queue fills;
- time-to-fill error: median of (model - exact) time to the first fill, over orders both fill.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from replayterm.core.execution.account import Account
from replayterm.core.execution.exact_queue import ExactQueue
from replayterm.core.execution.exchange import SimExchange
from replayterm.core.execution.latency import ConstantLatency
from replayterm.core.execution.orders import BUY, SELL, Fill, Order, TimeInForce
from replayterm.core.execution.queue import LogShare, PowerShare, ProbQueue, QueueModel, RiskAverseQueue

EXACT = "exact (FIFO)"


def default_models() -> dict[str, QueueModel]:
    return {
        "risk-averse": RiskAverseQueue(),
        "prob power 2": ProbQueue(PowerShare(2.0)),
        "prob power 1": ProbQueue(PowerShare(1.0)),
        "prob log 1": ProbQueue(LogShare(1.0)),
    }


def candidate_models() -> dict[str, QueueModel]:
    """The grid a fit chooses from (risk-averse, power n and log scale)."""
    out: dict[str, QueueModel] = {"risk-averse": RiskAverseQueue()}
    for n in (0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0):
        out[f"prob power {n:g}"] = ProbQueue(PowerShare(n))
    for scale in (0.5, 1.0, 2.0, 5.0, 10.0, 50.0):
        out[f"prob log {scale:g}"] = ProbQueue(LogShare(scale))
    return out


@dataclass
class ModelResult:
    name: str
    errors: list[float] = field(default_factory=list)
    signed: list[float] = field(default_factory=list)
    fills: dict[int, int] = field(default_factory=dict)  # plan index -> time to first fill (µs)

    def summary(self, exact: ModelResult, n_orders: int) -> dict[str, Any]:
        e = np.array(self.errors) if self.errors else np.zeros(1)
        both = [k for k in self.fills if k in exact.fills]
        ttf = [(self.fills[k] - exact.fills[k]) / 1e6 for k in both]
        return {
            "model": self.name,
            "samples": len(self.errors),
            "ahead_error_median": float(np.median(e)),
            "ahead_error_p90": float(np.percentile(e, 90)),
            "ahead_bias_mean": float(np.mean(self.signed)) if self.signed else 0.0,
            "fill_rate": len(self.fills) / max(n_orders, 1),
            "fill_rate_error": (len(self.fills) - len(exact.fills)) / max(n_orders, 1),
            "time_to_fill_error_median_s": float(np.median(ttf)) if ttf else 0.0,
            "time_to_fill_error_mean_abs_s": float(np.mean(np.abs(ttf))) if ttf else 0.0,
            "both_filled": len(both),
        }


def calibrate(
    instrument: Any,
    models: dict[str, QueueModel],
    *,
    every_s: float = 10.0,
    horizon_s: float = 60.0,
    size: float = 1.0,
    progress: Callable[[float], object] | None = None,
) -> dict[str, Any]:
    """Run the plan over ``instrument`` (one with MBO data) under each model and the exact queue."""
    replayer, trades, orders = instrument.book, instrument.trades, instrument.orders
    if replayer is None or orders is None:
        raise ValueError(f"{instrument.name}: queue calibration needs a market-by-order file")
    replayer.seek_group(0)
    book = replayer.book
    names = [EXACT, *models]
    exchanges: dict[str, SimExchange] = {}
    for name in names:
        fifo = ExactQueue(orders.book(), replayer.events.groups[0]) if name == EXACT else None
        exchanges[name] = SimExchange(
            Account(),
            latency=ConstantLatency(0, 0),
            queue=models.get(name),
            book=book,
            tick_size=instrument.tick_size or None,
            exact=fifo,
        )
    results = {name: ModelResult(name) for name in names}
    plan: list[tuple[int, int]] = []  # (submit time, side)
    oid_plan: dict[str, dict[int, int]] = {name: {} for name in names}
    cancelled: dict[str, set[int]] = {name: set() for name in names}
    every_us, horizon_us = int(every_s * 1e6), int(horizon_s * 1e6)
    n_trades = len(trades) if trades is not None else 0
    tb = trades.batch(0, n_trades) if trades is not None else None
    t_trades = np.asarray(tb.local_ts) if tb is not None else np.zeros(0, np.int64)
    t_side = np.asarray(tb.side) if tb is not None else np.zeros(0, np.int8)
    t_price = np.asarray(tb.price) if tb is not None else np.zeros(0)
    t_amount = np.asarray(tb.amount) if tb is not None else np.zeros(0)
    ti = 0
    next_plan: int | None = None
    n = replayer.n_groups
    group_ts = replayer.events.group_ts
    for g in range(n):
        ts = int(group_ts[g])
        while ti < n_trades and int(t_trades[ti]) <= ts:
            t = int(t_trades[ti])
            for ex in exchanges.values():
                ex.advance(t - 1)
                ex.on_trade(t, int(t_side[ti]), float(t_price[ti]), float(t_amount[ti]))
            ti += 1
        for ex in exchanges.values():
            ex.advance(ts - 1)
        replayer.step()
        for name, ex in exchanges.items():
            ex.on_book(ts, book)
            for event in ex.poll(ts):
                if isinstance(event, Fill):
                    k = oid_plan[name].get(event.order_id)
                    if k is not None and k not in results[name].fills:
                        results[name].fills[k] = event.exch_ts - plan[k][0]
        _sample(exchanges, oid_plan, results, book)
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None or bid[0] >= ask[0]:
            continue
        if next_plan is None:
            next_plan = ts
        if ts >= next_plan:
            next_plan = ts + every_us
            for side, price in ((BUY, bid[0]), (SELL, ask[0])):
                plan.append((ts, side))
                for name, ex in exchanges.items():
                    oid = ex.submit(ts, Order.limit(side, size, price, tif=TimeInForce.POST_ONLY))
                    oid_plan[name][oid] = len(plan) - 1
        for name, ex in exchanges.items():
            for oid in ex.resting_ids():
                if ts - plan[oid_plan[name][oid]][0] >= horizon_us and oid not in cancelled[name]:
                    cancelled[name].add(oid)
                    ex.cancel(ts, oid)
        for ex in exchanges.values():
            ex.advance(ts)
            ex.poll(ts)
        if progress is not None and g % 4096 == 0:
            progress(g / max(n, 1))
    exact = results[EXACT]
    rows = [results[name].summary(exact, len(plan)) for name in models]
    return {
        "instrument": instrument.name,
        "orders": len(plan),
        "exact_fill_rate": len(exact.fills) / max(len(plan), 1),
        "models": rows,
        "every_s": every_s,
        "horizon_s": horizon_s,
    }


def _sample(
    exchanges: dict[str, SimExchange],
    oid_plan: dict[str, dict[int, int]],
    results: dict[str, ModelResult],
    book: Any,
) -> None:
    truth = {oid_plan[EXACT][oid]: q for oid, q in exchanges[EXACT].queue_positions().items()}
    if not truth:
        return
    for name, ex in exchanges.items():
        if name == EXACT:
            continue
        res = results[name]
        plan_of = oid_plan[name]
        for oid, (ahead, _) in ex.queue_positions().items():
            t = truth.get(plan_of[oid])
            if t is None or t[1] <= 0:
                continue
            diff = (ahead - t[0]) / t[1]
            res.errors.append(abs(diff))
            res.signed.append(diff)


def fit(instrument: Any, **kwargs: Any) -> tuple[str, QueueModel, dict[str, Any]]:
    """The candidate with the smallest median queue-ahead error (ties: smaller fill-rate error)."""
    candidates = candidate_models()
    report = calibrate(instrument, candidates, **kwargs)
    best = min(report["models"], key=lambda m: (m["ahead_error_median"], abs(m["fill_rate_error"])))
    return best["model"], candidates[best["model"]], report
