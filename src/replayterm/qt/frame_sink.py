"""Frame coalescing: the worker may publish faster than the screen refreshes.

``FrameCoalescer`` (plain Python) keeps the latest state of the current generation and
concatenates the appended streams (trades, top-of-book series, and each strategy's record
chunks) of every frame it swallowed, so a view that only sees the rendered frames still receives
every trade and fill. ``FrameSink`` (Qt) drives it from one timer and hands each coalesced frame
to the views, timing the render. The timer runs at 60 Hz while the GUI thread has time to spare
and slows (down to ~36 Hz) when a frame's work - applying it, painting it and whatever else the
GUI thread did meanwhile - would take more than half of the thread's time: a GUI that renders
flat out answers input late. Each frame reaches the views in two halves, half an interval apart
(split so both take about as long to apply): Qt paints what a half changed right after it, so
input and timers get the event loop between two shorter blocks instead of after one long one.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import fields, is_dataclass, replace
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from replayterm.core.replay.frame import Frame, TickerSeries, TopSeries, TradeBatch
from replayterm.core.strategy.records import RecordChunk

log = logging.getLogger(__name__)

FrameConsumer = Callable[[Frame], None]

FASTEST_MS = 16  # ~60 Hz
SLOWEST_MS = 28  # ~36 Hz: slower than this and motion stops looking continuous
BUSY_SHARE = 0.5  # share of the GUI thread's time that frames may take
_COST_SMOOTHING = 0.2  # weight of the newest frame in the running cost estimate


def frame_interval_ms(cost_ms: float, fastest: int = FASTEST_MS, slowest: int = SLOWEST_MS) -> int:
    """Render interval that keeps a frame's GUI work (``cost_ms``) at ``BUSY_SHARE`` of the time."""
    if not math.isfinite(cost_ms):
        return slowest
    return int(min(max(fastest, slowest), max(fastest, math.ceil(cost_ms / BUSY_SHARE))))


def concat_trades(batches: list[TradeBatch]) -> TradeBatch:
    batches = [b for b in batches if len(b)]
    if not batches:
        return TradeBatch()
    if len(batches) == 1:
        return batches[0]
    return TradeBatch(
        local_ts=np.concatenate([b.local_ts for b in batches]),
        exch_ts=np.concatenate([b.exch_ts for b in batches]),
        price=np.concatenate([b.price for b in batches]),
        amount=np.concatenate([b.amount for b in batches]),
        side=np.concatenate([b.side for b in batches]),
    )


def concat_ticker(batches: list[TickerSeries]) -> TickerSeries:
    batches = [b for b in batches if len(b)]
    if not batches:
        return TickerSeries()
    if len(batches) == 1:
        return batches[0]
    return TickerSeries(
        *(np.concatenate([getattr(b, f.name) for b in batches]) for f in fields(TickerSeries))
    )


def concat_series(batches: list[TopSeries]) -> TopSeries:
    batches = [b for b in batches if len(b)]
    if not batches:
        return TopSeries()
    if len(batches) == 1:
        return batches[0]
    return TopSeries(
        local_ts=np.concatenate([b.local_ts for b in batches]),
        best_bid=np.concatenate([b.best_bid for b in batches]),
        best_ask=np.concatenate([b.best_ask for b in batches]),
        imbalance=np.concatenate([b.imbalance for b in batches]),
    )


def concat_chunks(a: RecordChunk, b: RecordChunk) -> RecordChunk:
    """Rows [a.start, b.end) from two consecutive chunks of one record log."""
    if len(b) == 0:
        return a
    if len(a) == 0:
        return b
    columns: dict[str, Any] = {}
    for name, vb in b.columns.items():
        va = a.columns.get(name)
        if va is None:
            columns[name] = vb
        elif isinstance(vb, np.ndarray):
            columns[name] = np.concatenate([np.asarray(va), vb])
        else:
            columns[name] = list(va) + list(vb)
    return RecordChunk(a.start, b.end, columns)


def merge_strategy_frames(older: Any, newer: Any) -> Any:
    """One strategy's streams across two frames: chunks (and dicts of chunks) are concatenated,
    state fields come from the newer frame. A ``reset`` newer frame replaces the older one."""
    if getattr(newer, "reset", False) or not is_dataclass(newer) or isinstance(newer, type):
        return newer
    updates: dict[str, Any] = {}
    for f in fields(newer):
        nv, ov = getattr(newer, f.name), getattr(older, f.name, None)
        if isinstance(nv, RecordChunk) and isinstance(ov, RecordChunk):
            updates[f.name] = concat_chunks(ov, nv)
        elif (
            isinstance(nv, dict)
            and isinstance(ov, dict)
            and all(isinstance(v, RecordChunk) for v in nv.values())
        ):
            merged = dict(ov)
            for key, chunk in nv.items():
                merged[key] = concat_chunks(ov[key], chunk) if key in ov else chunk
            updates[f.name] = merged
    if hasattr(newer, "reset"):
        updates["reset"] = bool(getattr(older, "reset", False))
    return replace(newer, **updates)


def _strategy_key(strategy_frame: Any) -> object:
    handle = getattr(getattr(strategy_frame, "info", None), "handle", None)
    return getattr(handle, "id", None)


class FrameCoalescer:
    """Merge the frames received between two renders into one.

    Rules: a frame older than the current generation is dropped; a newer generation discards
    everything pending and forces ``reset`` (its streams start from scratch); a ``reset`` frame
    discards the pending streams before it. The merged frame carries the latest state and the
    concatenation of the kept streams.
    """

    def __init__(self) -> None:
        self.generation = -1
        self.dropped = 0
        self.swallowed = 0
        self._latest: Frame | None = None
        self._reset = False
        self._trades: list[TradeBatch] = []
        self._series: list[TopSeries] = []
        self._liquidations: list[TradeBatch] = []
        self._ticker: list[TickerSeries] = []
        self._strategies: dict[object, Any] = {}

    def push(self, frame: Frame) -> bool:
        if frame.generation < self.generation:
            self.dropped += 1
            return False
        if frame.generation > self.generation:
            self.generation = frame.generation
            self._start_over()
        if frame.reset:
            self._start_over()
        if self._latest is not None:
            self.swallowed += 1
        self._latest = frame
        if len(frame.trades):
            self._trades.append(frame.trades)
        if len(frame.series):
            self._series.append(frame.series)
        if len(frame.liquidations):
            self._liquidations.append(frame.liquidations)
        if len(frame.ticker):
            self._ticker.append(frame.ticker)
        for sf in getattr(frame, "strategies", ()):
            key = _strategy_key(sf)
            prev = self._strategies.get(key)
            self._strategies[key] = sf if prev is None else merge_strategy_frames(prev, sf)
        return True

    def _start_over(self) -> None:
        self._reset = True
        self._trades.clear()
        self._series.clear()
        self._liquidations.clear()
        self._ticker.clear()
        self._strategies.clear()
        self._latest = None

    @property
    def pending(self) -> bool:
        return self._latest is not None

    def take(self) -> Frame | None:
        latest = self._latest
        if latest is None:
            return None
        extra: dict[str, Any] = {}
        if hasattr(latest, "strategies"):
            extra["strategies"] = [self._strategies.get(_strategy_key(sf), sf) for sf in latest.strategies]
        merged = replace(
            latest,
            reset=self._reset,
            trades=concat_trades(self._trades),
            series=concat_series(self._series),
            liquidations=concat_trades(self._liquidations),
            ticker=concat_ticker(self._ticker),
            **extra,
        )
        self._latest = None
        self._reset = False
        self._trades = []
        self._series = []
        self._liquidations = []
        self._ticker = []
        self._strategies = {}
        return merged


class FrameSink(QObject):
    """Receives frames (queued from the worker thread) and renders the latest at most ~60 Hz.

    ``rendered(ms)`` reports how long the views took; ``consumer_failed(title, text)`` reports a
    view that raised (once per distinct error, so a broken view cannot flood the user).
    ``interval_ms`` is the fastest render interval; the sink slows down from there (see
    ``frame_interval_ms``) while frames cost the GUI thread more than it can spare.
    """

    rendered = Signal(float)
    consumer_failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None, interval_ms: int = FASTEST_MS) -> None:
        super().__init__(parent)
        self.coalescer = FrameCoalescer()
        self._consumers: list[FrameConsumer] = []
        self._reported: set[str] = set()
        self.last_render_ms = 0.0
        self.frames_rendered = 0
        self._fastest = int(interval_ms)
        # Clocks, replaceable so tests can give views a cost without spending real time.
        self.wall_clock: Callable[[], float] = time.perf_counter
        self.cpu_clock: Callable[[], float] = time.thread_time
        self.frame_cost_ms = 0.0  # smoothed GUI-thread CPU time per rendered frame
        self._cpu_mark: float | None = None  # GUI-thread CPU time at the previous render
        self._apply_ms: dict[int, float] = {}  # smoothed time each consumer takes to apply a frame
        self._later: tuple[Frame, list[FrameConsumer], float] | None = None  # the second half
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(self._fastest)
        self._timer.timeout.connect(self._on_timer)
        self._later_timer = QTimer(self)
        self._later_timer.setSingleShot(True)
        self._later_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._later_timer.timeout.connect(self._finish)

    def add_consumer(self, consumer: FrameConsumer) -> None:
        self._consumers.append(consumer)

    @property
    def generation(self) -> int:
        return self.coalescer.generation

    @property
    def interval_ms(self) -> int:
        return self._timer.interval()

    @Slot(object)
    def push(self, frame: Frame) -> None:
        if self.coalescer.push(frame) and not self._timer.isActive():
            self._timer.start()

    def flush(self) -> bool:
        """Render the pending frame now, to every view (if any). Returns True when one was."""
        self._finish()
        frame = self.coalescer.take()
        if frame is None:
            return False
        self._done(self._apply(frame, self._consumers))
        return True

    def _on_timer(self) -> None:
        self._finish()  # (normally done already, half an interval ago)
        frame = self.coalescer.take()
        if frame is None:
            self._timer.stop()  # idle: no wake-ups until the next frame arrives
            self._cpu_mark = None
            return
        first, second = self._halves()
        ms = self._apply(frame, first)
        if second:
            self._later = (frame, second, ms)
            self._later_timer.start(max(1, self._timer.interval() // 2))
        else:
            self._done(ms)
        self._pace()

    def _finish(self) -> None:
        """Give the frame in flight to the views still waiting for it."""
        if self._later is None:
            return
        frame, consumers, ms = self._later
        self._later = None
        self._later_timer.stop()
        self._done(ms + self._apply(frame, consumers))

    def _halves(self) -> tuple[list[FrameConsumer], list[FrameConsumer]]:
        """The consumers in order, cut where the first part takes about half the apply time."""
        costs = [self._apply_ms.get(id(c), 0.0) for c in self._consumers]
        half, acc, cut = sum(costs) / 2, 0.0, len(costs)
        for i, cost in enumerate(costs):
            if acc + cost / 2 >= half:  # consumer i straddles the middle: cut at its nearer end
                cut = i if acc > 0 else i + 1
                break
            acc += cost
        return self._consumers[:cut], self._consumers[cut:]

    def _apply(self, frame: Frame, consumers: list[FrameConsumer]) -> float:
        start = t0 = self.wall_clock()
        for consumer in consumers:
            try:
                consumer(frame)
            except Exception as exc:
                self._report(consumer, exc)
            t1 = self.wall_clock()
            ms, key = (t1 - t0) * 1e3, id(consumer)
            before = self._apply_ms.get(key, ms)
            self._apply_ms[key] = before + _COST_SMOOTHING * (ms - before)
            t0 = t1
        return (t0 - start) * 1e3

    def _done(self, ms: float) -> None:
        self.last_render_ms = ms
        self.frames_rendered += 1
        self.rendered.emit(ms)

    def _pace(self) -> None:
        """Measure what the last frame period cost the GUI thread and set the next interval."""
        cpu = self.cpu_clock()
        if self._cpu_mark is not None:
            cost = (cpu - self._cpu_mark) * 1e3
            w = _COST_SMOOTHING if self.frame_cost_ms > 0 else 1.0
            self.frame_cost_ms += w * (cost - self.frame_cost_ms)
            interval = frame_interval_ms(self.frame_cost_ms, self._fastest)
            current = self._timer.interval()
            at_bound = interval in (self._fastest, SLOWEST_MS)
            # a new interval restarts the timer from now: not for every millisecond of jitter
            if interval != current and (at_bound or abs(interval - current) >= 2):
                self._timer.setInterval(interval)
        self._cpu_mark = cpu

    def _report(self, consumer: FrameConsumer, exc: Exception) -> None:
        name = getattr(consumer, "__qualname__", repr(consumer))
        key = f"{name}:{type(exc).__name__}:{exc}"
        if key in self._reported:
            return
        self._reported.add(key)
        log.exception("View %s failed to render a frame", name)
        self.consumer_failed.emit("Display error", f"{name} could not render: {type(exc).__name__}: {exc}")
