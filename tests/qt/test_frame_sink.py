from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from pytestqt.qtbot import QtBot
from qt_frames import T0, levels, make_frame, series, trades
from test_strategy_views import info

from replayterm.core.frames import Frame
from replayterm.core.frames.coalescer import FrameCoalescer
from replayterm.core.frames.strategies import StrategyFrame
from replayterm.core.strategy.records import RecordChunk
from replayterm.qt.frame_sink import FASTEST_MS, SLOWEST_MS, FrameSink, frame_interval_ms


def _frame(gen: int, ts: int, trade_ts: list[int], reset: bool = False):  # type: ignore[no-untyped-def]
    n = len(trade_ts)
    return make_frame(
        levels([100.0], [1.0]),
        levels([100.5], [1.0]),
        generation=gen,
        reset=reset,
        ts=ts,
        trade_batch=trades(trade_ts, [100.0] * n, [1.0] * n, [1] * n),
        top=series([ts], [100.0], [100.5], [0.0]),
    )


def test_coalescing_keeps_every_trade_of_skipped_frames() -> None:
    c = FrameCoalescer()
    assert c.take() is None
    c.push(_frame(0, T0 + 1, [T0 + 1], reset=True))
    c.push(_frame(0, T0 + 2, [T0 + 2, T0 + 2]))
    c.push(_frame(0, T0 + 3, []))
    c.push(_frame(0, T0 + 4, [T0 + 4]))
    merged = c.take()
    assert merged is not None
    assert merged.reset
    assert merged.local_ts == T0 + 4  # latest state
    assert merged.trades.local_ts.tolist() == [T0 + 1, T0 + 2, T0 + 2, T0 + 4]
    assert merged.series.local_ts.tolist() == [T0 + 1, T0 + 2, T0 + 3, T0 + 4]
    assert c.take() is None
    c.push(_frame(0, T0 + 5, [T0 + 5]))
    nxt = c.take()
    assert nxt is not None
    assert not nxt.reset
    assert nxt.trades.local_ts.tolist() == [T0 + 5]


def test_older_generations_are_dropped_and_newer_ones_restart_streams() -> None:
    c = FrameCoalescer()
    c.push(_frame(1, T0 + 10, [T0 + 10]))
    c.push(_frame(2, T0 + 500, [T0 + 500], reset=False))  # a seek happened: new generation
    assert not c.push(_frame(1, T0 + 11, [T0 + 11]))  # in flight from before the seek
    merged = c.take()
    assert merged is not None
    assert merged.generation == 2
    assert merged.reset  # a new generation always starts the views afresh
    assert merged.trades.local_ts.tolist() == [T0 + 500]
    assert c.dropped == 1
    assert not c.push(_frame(1, T0 + 12, []))
    assert c.take() is None


def test_reset_frame_discards_streams_pending_before_it() -> None:
    c = FrameCoalescer()
    c.push(_frame(0, T0 + 1, [T0 + 1], reset=True))
    assert c.take() is not None
    c.push(_frame(0, T0 + 2, [T0 + 2]))
    c.push(_frame(0, T0 + 3, [T0 + 3], reset=True))
    merged = c.take()
    assert merged is not None
    assert merged.reset
    assert merged.trades.local_ts.tolist() == [T0 + 3]


def test_frame_sink_renders_latest_on_its_timer(qtbot: QtBot) -> None:
    sink = FrameSink(interval_ms=5)
    seen = []
    sink.add_consumer(seen.append)
    for i in range(5):
        sink.push(_frame(0, T0 + i, [T0 + i], reset=i == 0))
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=2000)
    assert seen[0].local_ts == T0 + 4
    assert len(seen[0].trades) == 5
    assert np.all(np.diff(seen[0].trades.local_ts) > 0)


def test_frame_sink_survives_a_failing_view(qtbot: QtBot) -> None:
    sink = FrameSink()
    errors = []
    sink.consumer_failed.connect(lambda title, text: errors.append(text))
    good = []

    def broken(frame: object) -> None:
        raise ValueError("boom")

    sink.add_consumer(broken)
    sink.add_consumer(good.append)
    for i in range(3):
        sink.push(_frame(0, T0 + i, [], reset=i == 0))
        assert sink.flush()
    assert len(good) == 3
    assert len(errors) == 1  # reported once, not once per frame
    assert "boom" in errors[0]


def _chunk(start: int, values: list[float]) -> RecordChunk:
    return RecordChunk(
        start, start + len(values), {"price": np.asarray(values), "note": [str(v) for v in values]}
    )


def _sframe(sid: int, start: int, fills: list[float], equity: float, reset: bool = False) -> StrategyFrame:
    empty = RecordChunk(0, 0, {})
    return StrategyFrame(
        info=info(sid, position=equity),
        reset=reset,
        fills=_chunk(start, fills),
        signals=empty,
        equity=empty,
        logs=empty,
        plots={"ema": _chunk(start, fills)},
    )


def _with(frame: Frame, strategies: list[StrategyFrame]) -> Frame:
    return replace(frame, strategies=strategies)


def test_coalescing_keeps_every_strategy_record_of_skipped_frames() -> None:
    c = FrameCoalescer()
    c.push(
        _with(_frame(0, T0, [], reset=True), [_sframe(1, 0, [1.0], 10.0, reset=True), _sframe(2, 0, [], 0.0)])
    )
    c.push(_with(_frame(0, T0 + 1, []), [_sframe(1, 1, [2.0, 3.0], 11.0), _sframe(2, 0, [7.0], 1.0)]))
    c.push(_with(_frame(0, T0 + 2, []), [_sframe(1, 3, [], 12.0), _sframe(2, 1, [8.0], 2.0)]))
    merged = c.take()
    assert merged is not None
    s1, s2 = merged.strategies
    assert s1.reset
    assert (s1.fills.start, s1.fills.end) == (0, 3)
    assert s1.fills["price"].tolist() == [1.0, 2.0, 3.0]
    assert s1.fills["note"] == ["1.0", "2.0", "3.0"]
    assert s1.plots["ema"]["price"].tolist() == [1.0, 2.0, 3.0]
    assert s1.info.position == 12.0  # state comes from the latest frame
    assert s2.fills["price"].tolist() == [7.0, 8.0]
    assert not s2.reset
    # a strategy whose records were rewound starts over
    c.push(_with(_frame(0, T0 + 3, []), [_sframe(1, 3, [4.0], 13.0), _sframe(2, 2, [9.0], 3.0)]))
    c.push(_with(_frame(0, T0 + 4, []), [_sframe(1, 0, [5.0], 1.0, reset=True), _sframe(2, 3, [], 3.0)]))
    s1, s2 = c.take().strategies  # type: ignore[union-attr]
    assert s1.reset
    assert s1.fills["price"].tolist() == [5.0]
    assert s2.fills["price"].tolist() == [9.0]


def test_frame_interval_follows_what_a_frame_costs_the_gui() -> None:
    assert frame_interval_ms(2.0) == FASTEST_MS  # cheap frames: full rate
    assert frame_interval_ms(11.0) == 22  # 11 ms of work every 22 ms: half the GUI thread
    assert frame_interval_ms(40.0) == SLOWEST_MS  # never slower than ~36 Hz
    assert frame_interval_ms(float("nan")) == SLOWEST_MS
    assert frame_interval_ms(1.0, fastest=5) == 5


class FakeClock:
    """Seconds that pass only when a view says it worked: view costs without spending time."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def spend(self, ms: float) -> None:
        self.t += ms / 1e3


def fake_clocks(sink: FrameSink) -> FakeClock:
    clock = FakeClock()
    sink.wall_clock = sink.cpu_clock = clock
    return clock


def test_frame_sink_slows_down_while_frames_are_expensive(qtbot: QtBot) -> None:
    sink = FrameSink()
    clock = fake_clocks(sink)
    rendered = []

    def heavy(frame: Frame) -> None:
        clock.spend(20.0)
        rendered.append(frame)
        if len(rendered) < 6:
            sink.push(_frame(0, frame.local_ts + 1, []))  # the replay keeps publishing

    sink.add_consumer(heavy)
    sink.push(_frame(0, T0, [], reset=True))
    qtbot.waitUntil(lambda: len(rendered) == 6, timeout=3000)
    assert sink.frame_cost_ms == pytest.approx(20.0)
    assert sink.interval_ms == SLOWEST_MS


def test_frame_reaches_the_views_in_two_halves_in_order(qtbot: QtBot) -> None:
    sink = FrameSink()
    clock = fake_clocks(sink)
    log: list[tuple[str, int]] = []

    def view(name: str, ms: float):  # type: ignore[no-untyped-def]
        def apply(frame: Frame) -> None:
            clock.spend(ms)
            log.append((name, frame.local_ts))

        apply.__qualname__ = name
        return apply

    for name, ms in (("a", 2.0), ("b", 2.0), ("c", 14.0)):
        sink.add_consumer(view(name, ms))
    assert sink.flush() is False
    sink.push(_frame(0, T0, [], reset=True))
    assert sink.flush()  # flush() renders to every view at once
    assert [n for n, _ in log] == ["a", "b", "c"]
    assert sink.frames_rendered == 1

    log.clear()
    sink.push(_frame(0, T0 + 1, []))
    sink._on_timer()  # what the render timer does
    assert [n for n, _ in log] == ["a", "b"]  # first half: the views before the middle of the apply time
    assert sink.frames_rendered == 1  # the frame is not done yet...
    qtbot.waitUntil(lambda: sink.frames_rendered == 2, timeout=2000)
    assert [n for n, _ in log] == ["a", "b", "c"]  # ...until the rest got it, half an interval later

    log.clear()
    sink.push(_frame(0, T0 + 2, []))
    sink._on_timer()
    sink.push(_frame(0, T0 + 3, []))
    assert sink.flush()  # the second half of the frame in flight comes first
    assert log == [("a", T0 + 2), ("b", T0 + 2), ("c", T0 + 2), ("a", T0 + 3), ("b", T0 + 3), ("c", T0 + 3)]
    assert sink.frames_rendered == 4
