"""Strategy runtime: headless backtests of the built-ins, callback overhead, 50 strategies at once.

Data: a generated incremental_book_L2 file of 10M rows plus the trades beside it (set
``REPLAYTERM_BENCH_STRATEGY_ROWS`` for another size). "events" are timeline events: book
messages plus trades; every figure also gives book messages/s. Loading (CSV → Arrow cache →
books indexed) is timed once and kept out of the backtest figures.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from typing import Any

from benchmarks._util import REPEATS, generated_l2_file, result
from replayterm.core.data import open_sources
from replayterm.core.replay.instruments import Instrument, build_instruments
from replayterm.core.session import ReplaySession
from replayterm.core.strategy import Strategy, StrategyContext
from replayterm.strategies import BUILTINS

ROWS = int(os.environ.get("REPLAYTERM_BENCH_STRATEGY_ROWS", "10000000"))
RUNS = max(1, min(REPEATS, 3))  # a 10M-row backtest takes seconds: three runs per figure at most
MANY = 50


class Idle(Strategy):
    """Overrides nothing: the replay runs the per-event path but never calls it."""

    name = "idle"


class Counter(Strategy):
    """The trivial strategy: counts book messages."""

    name = "counter"

    def __init__(self, params: Any = None) -> None:
        super().__init__(params)
        self.n = 0

    def on_book(self, ctx: StrategyContext, book: Any) -> None:
        self.n += 1


class Empty(Strategy):
    """An on_book that does nothing: measures the cost of the call itself."""

    name = "empty"

    def on_book(self, ctx: StrategyContext, book: Any) -> None:
        pass


def _backtest(instruments: list[Instrument], strategies: list[Any]) -> tuple[float, int, ReplaySession]:
    session = ReplaySession(instruments)
    for strategy in strategies:
        session.add_strategy(strategy)
    start = time.perf_counter()
    events = session.run_to_end()
    return time.perf_counter() - start, events, session


def _median_run(instruments: list[Instrument], strategies: list[Any]) -> tuple[float, int, ReplaySession]:
    runs = [_backtest(instruments, strategies) for _ in range(RUNS)]
    seconds = statistics.median(r[0] for r in runs)
    return seconds, runs[-1][1], runs[-1][2]


def run() -> Iterator[dict[str, Any]]:
    book_path = generated_l2_file(ROWS)
    files = [book_path, *sorted(book_path.parent.glob("*trades*.csv.gz"))]
    start = time.perf_counter()
    instruments = build_instruments(open_sources(files))
    load_s = time.perf_counter() - start
    messages = sum(inst.book.n_groups for inst in instruments if inst.book is not None)
    trades = sum(len(inst.trades) for inst in instruments if inst.trades is not None)
    shape = {"rows": ROWS, "book_messages": messages, "trades": trades, "runs": RUNS}
    yield result("strategies_load", load_s, "s", **shape)

    for name in BUILTINS:
        if name == "basis":
            continue  # trades two instruments; the generated input has one
        seconds, events, session = _median_run(instruments, [name])
        info = session.info(session.strategies[0])
        yield result(
            f"backtest_{name}",
            seconds,
            "s",
            events_per_s=round(events / seconds),
            book_messages_per_s=round(messages / seconds),
            fills=info.fills,
            status=str(info.status),
            **shape,
        )

    idle_s, events, _ = _median_run(instruments, [Idle])
    yield result(
        "per_event_path_idle_strategy", events / idle_s, "events/s", seconds=round(idle_s, 3), **shape
    )

    empty_s, _, _ = _median_run(instruments, [Empty] * MANY)
    per_callback = (empty_s - idle_s) / (MANY * messages)
    yield result("callback_overhead", per_callback * 1e9, "ns/callback", strategies=MANY, **shape)

    many_s, events, _ = _median_run(instruments, [Counter] * MANY)
    yield result(
        "many_trivial_strategies",
        events / many_s,
        "events/s",
        book_messages_per_s=round(messages / many_s),
        strategies=MANY,
        seconds=round(many_s, 3),
        **shape,
    )
