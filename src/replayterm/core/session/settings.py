"""``SessionSettings``: how the simulated exchanges of a session behave, and their defaults."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from replayterm.core.execution.account import Account
from replayterm.core.execution.exchange import SimExchange
from replayterm.core.execution.fees import FeeSchedule
from replayterm.core.execution.latency import LatencyModel, default_latency
from replayterm.core.execution.queue import PowerShare, ProbQueue, QueueModel, RiskAverseQueue
from replayterm.core.replay.instruments import Instrument

QUEUE_MODELS = ("risk-averse", "prob")
DEFAULT_SAMPLE_INTERVAL_US = 100_000
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

    - ``latency``: order entry / response delays on the replay axis; None = estimated per
      instrument from the data's local-vs-exchange time skew (``execution.default_latency``).
    - ``fees``: maker/taker rates; ``slippage_bps`` (if not None) replaces the fee schedule's
      taker slippage.
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
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    slippage_bps: float | None = None
    queue: str | QueueModel = "risk-averse"
    initial_cash: float = 0.0
    focus: int | str | None = None
    sample_interval_us: int = DEFAULT_SAMPLE_INTERVAL_US
    callback_budget_s: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.queue, str) and self.queue not in QUEUE_MODELS:
            raise ValueError(f"unknown queue model {self.queue!r} (choose from {', '.join(QUEUE_MODELS)})")
        if not math.isfinite(self.initial_cash):
            raise ValueError(f"initial cash must be finite, got {self.initial_cash!r}")
        if self.sample_interval_us <= 0:
            raise ValueError(f"sample interval must be > 0 µs, got {self.sample_interval_us}")

    def fee_schedule(self) -> FeeSchedule:
        if self.slippage_bps is None:
            return self.fees
        return FeeSchedule(self.fees.maker, self.fees.taker, float(self.slippage_bps))

    def queue_model(self) -> QueueModel:
        if not isinstance(self.queue, str):
            return self.queue
        return RiskAverseQueue() if self.queue == "risk-averse" else ProbQueue(PowerShare(2.0))

    def latency_for(self, instrument: Instrument) -> LatencyModel:
        if self.latency is not None:
            return self.latency
        if instrument.book is not None:
            events = instrument.book.events
            return default_latency(*_sampled(events.local_ts, events.exch_ts))
        if instrument.trades is not None:
            return default_latency(*_sampled(instrument.trades.local_ts, instrument.trades.exch_ts))
        empty = np.empty(0, dtype=np.int64)
        return default_latency(empty, empty)

    def exchange_factory(
        self, instrument: Instrument, latency: LatencyModel
    ) -> Callable[[Account], SimExchange]:
        """Builds a strategy's simulated exchange over ``instrument``'s book with these settings."""
        fees, queue = self.fee_schedule(), self.queue_model()
        book = None if instrument.book is None else instrument.book.book
        tick = instrument.tick_size if instrument.tick_size > 0 else None

        def make(account: Account) -> SimExchange:
            return SimExchange(account, latency=latency, fees=fees, queue=queue, book=book, tick_size=tick)

        return make

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


LATENCY_SAMPLE = 1_000_000


def _sampled(local_ts: Any, exch_ts: Any) -> tuple[np.ndarray, np.ndarray]:
    """Both time columns, or the same evenly spread rows of them when they are long: a median
    needs no more, and columns mapped from the cache must not be read whole into memory."""
    n = len(local_ts)
    if n <= LATENCY_SAMPLE:
        return np.asarray(local_ts), np.asarray(exch_ts)
    rows = np.linspace(0, n - 1, LATENCY_SAMPLE).astype(np.int64)
    return np.asarray(local_ts[rows]), np.asarray(exch_ts[rows])
