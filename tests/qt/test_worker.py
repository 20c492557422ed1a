"""The replay worker in its own thread, driven only through queued signals (DESIGN §4)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QObject, Qt, Signal, SignalInstance, Slot

from replayterm.core.data import open_sources
from replayterm.core.frames import Frame
from replayterm.core.replay.cursor import ReplayCursor
from replayterm.core.replay.instruments import build_instruments
from replayterm.qt.worker import OpenedInfo, ReplayWorker
from replayterm.qt.worker_thread import start_worker, stop_worker

SAMPLE = sorted((Path(__file__).resolve().parents[2] / "data").glob("*.csv.gz"))


class Commands(QObject):
    open = Signal(list)
    play = Signal()
    pause = Signal()
    seek = Signal("qint64")
    speed = Signal(float)
    step_message = Signal()
    step_trade = Signal()
    depth_reach = Signal(int)
    ping = Signal(object)
    block = Signal()


class Blocker(QObject):
    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate = gate

    @Slot()
    def block(self) -> None:
        self.gate.wait(60)


class Harness:
    def __init__(self, qtbot) -> None:  # type: ignore[no-untyped-def]
        self.qtbot = qtbot
        self.worker = ReplayWorker()
        self.cmd = Commands()
        # Counted as they are sent, as the app's controller does (requests supersede); connected
        # first, so the count is there before the worker can start the command.
        self.cmd.open.connect(self.worker.issue_open, Qt.ConnectionType.DirectConnection)
        self.cmd.seek.connect(self.worker.issue_seek, Qt.ConnectionType.DirectConnection)
        self.cmd.open.connect(self.worker.open)
        self.cmd.play.connect(self.worker.play)
        self.cmd.pause.connect(self.worker.pause)
        self.cmd.seek.connect(self.worker.seek)
        self.cmd.speed.connect(self.worker.set_speed)
        self.cmd.step_message.connect(self.worker.step_message)
        self.cmd.step_trade.connect(self.worker.step_trade)
        self.cmd.depth_reach.connect(self.worker.set_depth_reach)
        self.cmd.ping.connect(self.worker.ping)
        self._tokens = 0
        self.frames: list[Frame] = []
        self.worker.frame_ready.connect(self.frames.append)
        self.thread = start_worker(self.worker)

    def open(self, paths: list[str]) -> OpenedInfo:
        seen = len(self.frames)
        with self.qtbot.waitSignal(self.worker.opened, timeout=60_000) as blocker:
            self.cmd.open.emit(paths)
        self.qtbot.waitUntil(lambda: len(self.frames) > seen)  # the first frame follows at once
        return blocker.args[0]

    def next_frame(self, emit: SignalInstance, *args: object) -> Frame:
        with self.qtbot.waitSignal(self.worker.frame_ready, timeout=20_000) as blocker:
            emit.emit(*args)
        return blocker.args[0]

    def sync(self) -> None:
        """Barrier: wait until the worker has done everything queued before now (its frames and
        signals have reached this thread too, since they were queued before the echo)."""
        self._tokens += 1
        token = self._tokens
        with self.qtbot.waitSignal(self.worker.pong, timeout=60_000, check_params_cb=lambda t: t == token):
            self.cmd.ping.emit(token)

    def hold(self) -> threading.Event:
        """Keep the worker thread busy until the returned event is set (commands sent meanwhile
        wait in its queue, as behind a long seek)."""
        gate = threading.Event()
        self._blocker = Blocker(gate)
        self._blocker.moveToThread(self.thread)
        self.cmd.block.connect(self._blocker.block)
        self.cmd.block.emit()
        return gate

    def close(self) -> None:
        assert stop_worker(self.worker, self.thread)
        assert not self.thread.isRunning()


@pytest.fixture
def harness(qtbot) -> Iterator[Harness]:  # type: ignore[no-untyped-def]
    h = Harness(qtbot)
    yield h
    h.close()


@pytest.fixture(scope="module")
def reference() -> ReplayCursor:
    return ReplayCursor(build_instruments(open_sources(SAMPLE, use_cache=False)))


def assert_frame_matches_book_at(frame: Frame, reference: ReplayCursor) -> None:
    reference.seek(frame.local_ts)
    book = reference.instruments[0].book
    assert book is not None
    np.testing.assert_array_equal(frame.bids, book.book.levels(1, frame.bids.shape[0]))
    np.testing.assert_array_equal(frame.asks, book.book.levels(-1, frame.asks.shape[0]))


def test_open_play_pause_frames_match_the_core_book(harness: Harness, reference: ReplayCursor) -> None:
    info = harness.open([str(p) for p in SAMPLE])
    assert info.instruments == ["synthetic:SYNTHUSD"]
    assert info.start_ts < info.end_ts
    harness.qtbot.waitUntil(lambda: len(harness.frames) >= 1)
    assert harness.frames[0].reset
    harness.cmd.speed.emit(50.0)
    harness.cmd.play.emit()
    harness.qtbot.waitUntil(lambda: len(harness.frames) >= 10, timeout=10_000)
    paused = harness.next_frame(harness.cmd.pause)
    assert not paused.playing
    assert paused.local_ts > info.start_ts
    for frame in (harness.frames[3], paused):
        assert_frame_matches_book_at(frame, reference)


def test_seek_bumps_generation_and_matches(harness: Harness, reference: ReplayCursor) -> None:
    info = harness.open([str(p) for p in SAMPLE])
    target = info.start_ts + (info.end_ts - info.start_ts) // 3
    frame = harness.next_frame(harness.cmd.seek, target)
    assert frame.reset
    assert frame.local_ts == target
    assert frame.generation > harness.frames[0].generation
    assert_frame_matches_book_at(frame, reference)
    back = harness.next_frame(harness.cmd.seek, info.start_ts + 1_000_000)
    assert_frame_matches_book_at(back, reference)


def test_step_message_and_step_trade(harness: Harness) -> None:
    harness.open([str(p) for p in SAMPLE])
    first = harness.next_frame(harness.cmd.step_message)
    second = harness.next_frame(harness.cmd.step_message)
    assert second.events_applied > first.events_applied
    traded = harness.next_frame(harness.cmd.step_trade)
    assert len(traded.trades) >= 1


def test_max_speed_reaches_the_end(harness: Harness) -> None:
    info = harness.open([str(p) for p in SAMPLE])
    harness.cmd.speed.emit(float("inf"))
    harness.cmd.play.emit()
    harness.qtbot.waitUntil(lambda: bool(harness.frames) and harness.frames[-1].at_end, timeout=30_000)
    assert harness.frames[-1].events_applied == info.events


def test_bad_file_fails_cleanly_and_keeps_the_open_replay(harness: Harness, tmp_path: Path) -> None:
    harness.open([str(p) for p in SAMPLE])
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\nx,y,1,2,true,up,1,1\n"
    )
    with harness.qtbot.waitSignal(harness.worker.open_failed, timeout=20_000) as blocker:
        harness.cmd.open.emit([str(bad)])
    assert "bad.csv" in blocker.args[0]
    frame = harness.next_frame(harness.cmd.step_message)
    assert frame.symbol == "synthetic:SYNTHUSD"


class StrategyCommands(QObject):
    add = Signal(str, dict)
    remove = Signal(int)
    enable = Signal(int, bool)
    reload = Signal(int)


def test_strategy_frames_and_identical_results_after_seeks(harness: Harness, tmp_path: Path) -> None:
    info = harness.open([str(p) for p in SAMPLE])
    cmd = StrategyCommands()
    cmd.add.connect(harness.worker.add_strategy)
    cmd.remove.connect(harness.worker.remove_strategy)
    with harness.qtbot.waitSignal(harness.worker.strategies_changed, timeout=30_000) as blocker:
        cmd.add.emit("market_maker", {})
    (strategy,) = blocker.args[0]
    assert strategy.name == "market_maker"
    harness.qtbot.waitUntil(lambda: bool(harness.frames[-1].strategies))  # the frame that follows
    middle = info.start_ts + (info.end_ts - info.start_ts) // 4
    first = harness.next_frame(harness.cmd.seek, middle)
    (sf,) = first.strategies
    assert sf.reset
    assert len(sf.fills) > 0
    fills_at_middle = sf.fills["price"].tolist()
    # Forward, then back again: the fills up to the middle are the same every time.
    harness.next_frame(harness.cmd.seek, info.end_ts)
    back = harness.next_frame(harness.cmd.seek, middle)
    assert back.strategies[0].fills["price"].tolist() == fills_at_middle
    harness.cmd.speed.emit(float("inf"))
    harness.cmd.play.emit()
    harness.qtbot.waitUntil(lambda: harness.frames[-1].at_end, timeout=30_000)
    assert harness.frames[-1].strategies[0].info.finished


def test_a_raising_strategy_is_disabled_and_a_hanging_one_can_be_stopped(
    harness: Harness, tmp_path: Path
) -> None:
    info = harness.open([str(p) for p in SAMPLE])
    harness.next_frame(harness.cmd.seek, info.start_ts + 30_000_000)  # strategies catch up over trades
    plugin = tmp_path / "bad.py"
    plugin.write_text(
        "from replayterm.core.strategy import Strategy\n"
        "class Raises(Strategy):\n"
        "    name = 'raises'\n"
        "    def on_trade(self, ctx, trade):\n"
        "        raise RuntimeError('boom')\n"
    )
    hang = tmp_path / "hang.py"
    hang.write_text(
        "from replayterm.core.strategy import Strategy\n"
        "class Hangs(Strategy):\n"
        "    name = 'hangs'\n"
        "    def on_trade(self, ctx, trade):\n"
        "        while True:\n"
        "            pass\n"
    )
    cmd = StrategyCommands()
    cmd.add.connect(harness.worker.add_strategy)
    with harness.qtbot.waitSignal(harness.worker.strategies_changed, timeout=30_000) as blocker:
        cmd.add.emit(str(plugin), {})
    (raises,) = blocker.args[0]
    assert raises.status.value == "failed"
    assert "boom" in str(raises.error)
    # The hanging strategy runs on the worker thread: the GUI thread stays free to stop it.
    with harness.qtbot.waitSignal(harness.worker.strategies_changed, timeout=30_000) as blocker:
        cmd.add.emit(str(hang), {})
        # Abort once the callback is really running (under load it may take a while to start).
        harness.qtbot.waitUntil(harness.worker.request_abort_callback, timeout=20_000)
    states = {s.name: s for s in blocker.args[0]}
    assert states["hangs"].status.value != "enabled"
    before = harness.frames[-1].events_applied
    harness.cmd.step_message.emit()  # the replay goes on
    harness.qtbot.waitUntil(lambda: harness.frames[-1].events_applied > before, timeout=10_000)


def test_a_depth_reach_makes_frames_cover_it(harness: Harness, reference: ReplayCursor) -> None:
    harness.open([str(p) for p in SAMPLE])
    harness.next_frame(harness.cmd.seek, harness.frames[-1].end_ts)
    frame = harness.next_frame(harness.cmd.depth_reach, 100 * 40)  # republished at once
    reference.seek(frame.local_ts)
    replayer = reference.instruments[0].book
    assert replayer is not None
    book = replayer.book
    for side, carried in ((1, frame.bids), (-1, frame.asks)):
        full = book.levels(side, book.level_count(side))
        limit = 100 * 40 * frame.tick_size * (1 + 1e-9)
        within = full[np.abs(full[:, 0] - full[0, 0]) <= limit]
        assert carried[: within.shape[0]].tolist() == within.tolist()


def test_paced_play_stops_at_the_last_event_not_past_it(harness: Harness) -> None:
    """At 10x-100x the clock used to run past the data (00:05:00.792 for data ending at .760)."""
    info = harness.open([str(p) for p in SAMPLE])
    harness.next_frame(harness.cmd.seek, info.end_ts - 200_000)
    harness.cmd.speed.emit(100.0)
    harness.cmd.play.emit()
    harness.qtbot.waitUntil(lambda: harness.frames[-1].at_end, timeout=30_000)
    harness.sync()
    assert max(f.local_ts for f in harness.frames) == info.end_ts
    assert not harness.frames[-1].playing


def test_a_failed_open_while_playing_leaves_the_replay_playing(harness: Harness, tmp_path: Path) -> None:
    """Play at 0.5x, open an empty CSV: the replay froze while the transport still said playing
    (issue 19, item 1). The previous replay must be exactly as it was: playing."""
    harness.open([str(p) for p in SAMPLE])
    harness.cmd.speed.emit(0.5)
    harness.cmd.play.emit()
    harness.qtbot.waitUntil(lambda: harness.frames[-1].playing, timeout=10_000)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with harness.qtbot.waitSignal(harness.worker.open_failed, timeout=20_000):
        harness.cmd.open.emit([str(empty)])
    seen = len(harness.frames)
    harness.qtbot.waitUntil(lambda: len(harness.frames) > seen + 3, timeout=10_000)
    late = harness.frames[-1]
    assert late.playing
    assert late.symbol == "synthetic:SYNTHUSD"
    assert late.speed == 0.5
    first = harness.frames[seen]
    assert late.local_ts > first.local_ts  # it moves on


class CarryCommands(QObject):
    add = Signal(str, dict)
    enable = Signal(int, bool)
    carry = Signal(bool)


def _strategy_file(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.py"
    path.write_text(
        "from replayterm.core.strategy import Strategy\n"
        f"class S(Strategy):\n    name = {name!r}\n    def on_trade(self, ctx, trade):\n{body}"
    )
    return path


def test_opening_other_files_keeps_each_strategys_state_and_asks_before_another_symbol(
    harness: Harness, tmp_path: Path
) -> None:
    """Failed and stopped strategies came back enabled (a looping one hung again), and strategies
    went onto another symbol without a question (issue 19, item 3)."""
    from replayterm.core.data.synthetic import generate_files

    info = harness.open([str(p) for p in SAMPLE])
    harness.next_frame(harness.cmd.seek, info.start_ts + 30_000_000)  # trades to fail on
    cmd = CarryCommands()
    cmd.add.connect(harness.worker.add_strategy)
    cmd.enable.connect(harness.worker.enable_strategy)
    cmd.carry.connect(harness.worker.carry_strategies)
    for name, body in (("fails", "        raise RuntimeError('boom')\n"), ("stopped", "        pass\n"),
                       ("runs", "        pass\n")):  # fmt: skip
        with harness.qtbot.waitSignal(harness.worker.strategies_changed, timeout=30_000):
            cmd.add.emit(str(_strategy_file(tmp_path, name, body)), {})
    session = harness.worker.session
    assert session is not None
    stopped = next(i for i in (session.info(h) for h in session.strategies) if i.name == "stopped")
    with harness.qtbot.waitSignal(harness.worker.strategies_changed, timeout=30_000):
        cmd.enable.emit(stopped.handle.id, False)
    # The same files again (same symbol): carried at once, each as it was.
    problems: list[object] = []
    harness.worker.strategy_failed.connect(lambda *a: problems.append(a))
    harness.worker.carry_question.connect(lambda *a: problems.append(a))
    with harness.qtbot.waitSignal(harness.worker.opened, timeout=60_000):
        harness.cmd.open.emit([str(p) for p in SAMPLE])
    harness.sync()
    assert problems == []  # no question: the same symbol
    reopened = harness.worker.session
    assert reopened is not None
    assert reopened is not session
    states = {i.name: i.status.value for i in (reopened.info(h) for h in reopened.strategies)}
    assert states == {"fails": "failed", "stopped": "disabled", "runs": "enabled"}
    # Another symbol: nothing is carried until the GUI answers the question.
    other = generate_files(tmp_path / "other", minutes=2, seed=3, symbol="OTHERUSD")
    with harness.qtbot.waitSignal(harness.worker.carry_question, timeout=60_000) as asked:
        harness.cmd.open.emit([str(other.book), str(other.trades)])
    names, old, new = asked.args
    assert sorted(names) == ["fails", "runs", "stopped"]
    assert "SYNTHUSD" in " ".join(old)
    assert "OTHERUSD" in " ".join(new)
    assert harness.worker.session is not None
    assert harness.worker.session.strategies == []
    harness.sync()  # the open's own strategies_changed ([]) has arrived
    with harness.qtbot.waitSignal(harness.worker.strategies_changed, timeout=60_000) as blocker:
        cmd.carry.emit(True)
    assert {s.name: s.status.value for s in blocker.args[0]} == states
