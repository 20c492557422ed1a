"""``FrameSink``: renders the frames the worker publishes, at most one per display refresh.

The merging of frames received between two renders is ``core.frames.coalescer.FrameCoalescer``
(Qt-free). ``FrameSink`` drives it from one timer and hands each coalesced frame
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

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from replayterm.core.frames.coalescer import FrameCoalescer
from replayterm.core.frames.frame import Frame

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
