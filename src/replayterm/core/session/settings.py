"""``SessionSettings``: how the simulated exchanges of a session behave, and their defaults."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from replayterm.core.execution.account import Account
from replayterm.core.execution.exact_queue import ExactQueue
from replayterm.core.execution.exchange import SimExchange
from replayterm.core.execution.fee_table import default_fees, exchange_fees
from replayterm.core.execution.fees import FeeSchedule
from replayterm.core.execution.latency import (
    DEFAULT_FEED_MAX_EXCESS_US,
    DEFAULT_FEED_WINDOW_US,
    ConstantLatency,
    FeedLatency,
    LatencyModel,
    clock_warnings,
    default_latency,
)
from replayterm.core.execution.queue import PowerShare, ProbQueue, QueueModel, RiskAverseQueue
from replayterm.core.execution.rules import FillRules
from replayterm.core.replay.instruments import Instrument

QUEUE_MODELS = ("risk-averse", "prob")
LATENCY_MODELS = ("constant", "feed")
DEFAULT_SAMPLE_INTERVAL_US = 100_000
DEFAULT_METRICS_INTERVAL_US = 60_000_000
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#b07aa1",
    "#76b7b2",
    "#edc948",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)


@dataclass(frozen=True)
class SessionSettings:
    """Settings shared by every strategy of a session.

    - ``latency_model``: "constant" (``latency`` as given) or "feed" (``latency`` is the base and
      each instrument's feed delay above its running minimum is added, see
      ``execution.latency.FeedLatency``; ``feed_scale``, ``feed_window_us``, ``feed_max_us``).
    - ``latency``: order entry / response delays on the replay axis; None = the documented
      default (``execution.default_latency``: 20 ms each way), never derived from timestamps.
    - ``fees``: maker/taker rates for every instrument; None = each instrument's exchange
      default (``execution.fee_table``; an unknown exchange gets 0 and a warning).
      ``slippage_bps`` (if not None) replaces the taker slippage.
    - ``rules``: the fill rules (``execution.rules.FillRules``).
    - ``metrics_interval_us``: Sharpe and Sortino use equity returns over this interval.
    - ``queue``: "risk-averse" (only trades move a resting order forward), "prob" (cancellations
      are shared ahead/behind by ``ProbQueue(PowerShare(2))``) or any ``QueueModel``.
    - ``initial_cash``: each account's starting cash (quote currency); equity = cash + position × mid.
    - ``focus``: the instrument strategies trade when ``add_strategy`` is given none: an index,
      "exchange:symbol" or a symbol; None = the first instrument.
    - ``sample_interval_us``: the account is sampled (equity, position, PnL) at the first event
      at or after every multiple of this many µs of simulated time, and after every fill; a grid
      sample that would repeat the previous row (flat, no new fill) is left out.
    - ``callback_budget_s``: a strategy callback running longer than this (wall time) is stopped
      and its strategy disabled; None = no limit (a stuck callback can still be aborted on request).
    """

    latency: LatencyModel | None = None
    fees: FeeSchedule | None = None
    slippage_bps: float | None = None
    queue: str | QueueModel = "risk-averse"
    initial_cash: float = 0.0
    focus: int | str | None = None
    sample_interval_us: int = DEFAULT_SAMPLE_INTERVAL_US
    callback_budget_s: float | None = None
    latency_model: str = "constant"
    feed_scale: float = 1.0
    feed_window_us: int = DEFAULT_FEED_WINDOW_US
    feed_max_us: int = DEFAULT_FEED_MAX_EXCESS_US
    rules: FillRules = field(default_factory=FillRules)
    metrics_interval_us: int = DEFAULT_METRICS_INTERVAL_US

    def __post_init__(self) -> None:
        if self.latency_model not in LATENCY_MODELS:
            raise ValueError(
                f"unknown latency model {self.latency_model!r} (choose from {', '.join(LATENCY_MODELS)})"
            )
        if self.latency_model == "feed" and not (
            self.latency is None or isinstance(self.latency, ConstantLatency)
        ):
            raise ValueError("the feed latency model takes a constant base latency")
        if not (math.isfinite(self.feed_scale) and self.feed_scale >= 0):
            raise ValueError(f"feed scale must be a finite number >= 0, got {self.feed_scale!r}")
        if self.feed_window_us <= 0 or self.feed_max_us < 0:
            raise ValueError("feed window must be > 0 µs and the feed cap >= 0 µs")
        if self.metrics_interval_us <= 0:
            raise ValueError(f"metrics interval must be > 0 µs, got {self.metrics_interval_us}")
        if self.slippage_bps is not None and not (
            math.isfinite(self.slippage_bps) and self.slippage_bps >= 0
        ):
            raise ValueError(f"slippage must be a finite number of bps >= 0, got {self.slippage_bps!r}")
        if isinstance(self.queue, str) and self.queue not in QUEUE_MODELS:
            raise ValueError(f"unknown queue model {self.queue!r} (choose from {', '.join(QUEUE_MODELS)})")
        if not math.isfinite(self.initial_cash):
            raise ValueError(f"initial cash must be finite, got {self.initial_cash!r}")
        if self.sample_interval_us <= 0:
            raise ValueError(f"sample interval must be > 0 µs, got {self.sample_interval_us}")

    def fee_schedule(self, instrument: Instrument | None = None) -> FeeSchedule:
        """The fees orders on ``instrument`` pay: the setting, else its exchange's default."""
        fees = self.fees
        if fees is None:
            fees = FeeSchedule() if instrument is None else default_fees(instrument.exchange)[0]
        if self.slippage_bps is None:
            return fees
        return FeeSchedule(fees.maker, fees.taker, float(self.slippage_bps))

    def fee_warning(self, instrument: Instrument) -> str | None:
        """Set when the fees come from the exchange table and the exchange is not in it."""
        if self.fees is not None:
            return None
        warning = default_fees(instrument.exchange)[1]
        return None if warning is None else f"{instrument.name}: {warning}"

    def base_latency(self) -> ConstantLatency:
        if isinstance(self.latency, ConstantLatency):
            return self.latency
        return default_latency()

    def queue_model(self) -> QueueModel:
        if not isinstance(self.queue, str):
            return self.queue
        return RiskAverseQueue() if self.queue == "risk-averse" else ProbQueue(PowerShare(2.0))

    def latency_for(self, instrument: Instrument) -> LatencyModel:
        if self.latency_model == "constant":
            return self.latency if self.latency is not None else default_latency()
        local, exch = _feed_times(instrument)
        return FeedLatency(
            local,
            exch,
            base=self.base_latency(),
            scale=self.feed_scale,
            window_us=self.feed_window_us,
            max_excess_us=self.feed_max_us,
        )

    def exchange_factory(
        self, instrument: Instrument, latency: LatencyModel
    ) -> Callable[[Account], SimExchange]:
        """Builds a strategy's simulated exchange over ``instrument``'s book with these settings."""
        fees, queue, rules = self.fee_schedule(instrument), self.queue_model(), self.rules
        book = None if instrument.book is None else instrument.book.book
        tick = instrument.tick_size if instrument.tick_size > 0 else None

        orders, replayer = instrument.orders, instrument.book

        def make(account: Account) -> SimExchange:
            # Market-by-order data: every exchange gets its own L3 book, the queue is exact.
            exact = None
            if orders is not None and replayer is not None:
                exact = ExactQueue(orders.book(), replayer.events.groups[0])
            return SimExchange(
                account,
                latency=latency,
                fees=fees,
                queue=queue,
                book=book,
                tick_size=tick,
                rules=rules,
                exact=exact,
            )

        return make

    def execution_notes(self, instrument: Instrument, latency: LatencyModel) -> list[str]:
        """Warnings about one instrument's execution settings: unknown fees, the recorder's clock
        offset, feed latencies clipped at the cap."""
        notes = [w for w in (self.fee_warning(instrument),) if w is not None]
        local, exch = _feed_times(instrument)
        notes.extend(clock_warnings(instrument.name, local, exch))
        if isinstance(latency, FeedLatency) and latency.report.clipped:
            notes.append(
                f"{instrument.name}: the feed latency was clipped at {self.feed_max_us / 1000:g} ms at "
                f"{latency.report.clipped:,} of {latency.report.samples:,} moments "
                f"(largest excess {latency.report.excess_max_us / 1000:,.1f} ms)"
            )
        return notes

    def latency_figures(self, latency: LatencyModel, ts: int) -> dict[str, Any]:
        """The latency one instrument's orders get, for summary.json and the app (µs)."""
        if isinstance(latency, FeedLatency):
            r = latency.report
            return {
                "entry": latency.entry_percentiles(),
                "response": latency.base.response_us,
                "feed": {
                    "samples": r.samples,
                    "median_skew": r.median_skew_us,
                    "min_skew": r.min_skew_us,
                    "excess_p50": r.excess_p50_us,
                    "excess_p99": r.excess_p99_us,
                    "excess_max": r.excess_max_us,
                    "clipped": r.clipped,
                },
            }
        return {"entry": int(latency.entry(ts)), "response": int(latency.response(ts))}

    def describe(self) -> dict[str, Any]:
        """The execution settings as plain JSON values (what summary.json records)."""
        base = self.base_latency()
        latency: dict[str, Any] = {
            "model": self.latency_model,
            "entry_us": base.entry_us,
            "response_us": base.response_us,
            "default": self.latency is None,
        }
        if self.latency_model == "feed":
            latency.update(
                scale=self.feed_scale, window_us=self.feed_window_us, max_excess_us=self.feed_max_us
            )
        fees = self.fees
        return {
            "latency": latency,
            "fees_bps": None
            if fees is None
            else {"maker": round(fees.maker * 1e4, 10), "taker": round(fees.taker * 1e4, 10)},
            "fees_source": "exchange defaults (execution.fee_table)" if fees is None else "set by the user",
            "slippage_bps": self.slippage_bps if self.slippage_bps is not None else 0.0,
            "queue": self.queue if isinstance(self.queue, str) else type(self.queue).__name__,
            "fill_rules": {
                "off_tick": self.rules.off_tick,
                "through": self.rules.through,
                "own_liquidity": self.rules.own_liquidity,
            },
            "initial_cash": self.initial_cash,
            "metrics_interval_us": self.metrics_interval_us,
        }

    def instrument_fees(self, instrument: Instrument) -> dict[str, Any]:
        """The fees one instrument's orders pay, in bps, and where they come from."""
        fees = self.fee_schedule(instrument)
        out: dict[str, Any] = {
            "maker_bps": round(fees.maker * 1e4, 10),
            "taker_bps": round(fees.taker * 1e4, 10),
        }
        if self.fees is not None:
            out["source"] = "set by the user"
        else:
            row = exchange_fees(instrument.exchange)
            out["source"] = "no default for this exchange: 0" if row is None else row.source
            if row is not None:
                out["market"] = row.market
        return out

    def focus_index(self, instruments: list[Instrument]) -> int:
        return resolve_instrument(instruments, self.focus)


def resolve_instrument(instruments: list[Instrument], which: int | str | None) -> int:
    """An instrument index from an index, "exchange:symbol" or a symbol (None = the first)."""
    if not instruments:
        raise ValueError("the session has no instruments (no book or trade data)")
    if which is None:
        return 0
    if isinstance(which, int):
        if not 0 <= which < len(instruments):
            raise ValueError(f"instrument index {which} out of range (0..{len(instruments) - 1})")
        return which
    for i, inst in enumerate(instruments):
        if which in (inst.name, inst.symbol):
            return i
    names = ", ".join(inst.name for inst in instruments)
    raise ValueError(f"no instrument {which!r} in this session (have: {names})")


def _feed_times(instrument: Instrument) -> tuple[np.ndarray, np.ndarray]:
    """(local_ts, exch_ts) of an instrument's book rows, else its trades."""
    if instrument.book is not None:
        events = instrument.book.events
        return events.local_ts, events.exch_ts
    if instrument.trades is not None:
        return instrument.trades.local_ts, instrument.trades.exch_ts
    empty = np.empty(0, dtype=np.int64)
    return empty, empty
