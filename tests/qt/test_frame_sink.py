from __future__ import annotations

import numpy as np
from pytestqt.qtbot import QtBot
from qt_frames import T0, levels, make_frame, series, trades

from replayterm.qt.frame_sink import FrameCoalescer, FrameSink


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
