"""Work supersedes (DESIGN §4.9): a newer seek or open stops the running one, only the newest
queued seek runs, and a Cancel pressed while a command waits in the queue is never lost."""

from __future__ import annotations

from pathlib import Path

from test_worker import SAMPLE, Harness, StrategyCommands, harness  # noqa: F401  (fixture)

from replayterm.qt.worker.requests import Requests


def test_only_the_newest_of_the_queued_seeks_runs(harness: Harness) -> None:  # noqa: F811
    info = harness.open([str(p) for p in SAMPLE])
    seen = len(harness.frames)
    gate = harness.hold()
    targets = [info.start_ts + k * 20_000_000 for k in (1, 2, 3)]
    for ts in targets:
        harness.cmd.seek.emit(ts)
    gate.set()
    harness.sync()
    resets = [f.local_ts for f in harness.frames[seen:] if f.reset]
    assert resets == [targets[-1]]


def test_a_cancel_pressed_while_the_open_waits_in_the_queue_is_not_lost(harness: Harness) -> None:  # noqa: F811
    harness.open([str(p) for p in SAMPLE])
    cancelled: list[bool] = []
    opened: list[object] = []
    harness.worker.open_cancelled.connect(lambda: cancelled.append(True))
    harness.worker.opened.connect(opened.append)
    gate = harness.hold()
    harness.cmd.open.emit([str(p) for p in SAMPLE])
    harness.worker.request_cancel()  # the open has not started yet
    gate.set()
    harness.sync()
    assert cancelled == [True]
    assert opened == []
    # The Cancel was for that open only: the next one opens.
    again = harness.open([str(p) for p in SAMPLE])
    assert again.events > 0


def test_a_new_seek_stops_a_running_strategy_re_run(harness: Harness, tmp_path: Path) -> None:  # noqa: F811
    info = harness.open([str(p) for p in SAMPLE])
    slow = tmp_path / "slow.py"
    slow.write_text(
        "import time\n"
        "from replayterm.core.strategy import Strategy\n"
        "class Slow(Strategy):\n"
        "    name = 'slow'\n"
        "    def on_trade(self, ctx, trade):\n"
        "        time.sleep(0.0005)\n"
    )
    cmd = StrategyCommands()
    cmd.add.connect(harness.worker.add_strategy)
    with harness.qtbot.waitSignal(harness.worker.strategies_changed, timeout=30_000):
        cmd.add.emit(str(slow), {})
    late = info.end_ts - 1_000_000
    busy: list[float] = []
    harness.worker.busy.connect(lambda f, _msg: busy.append(f))
    seen = len(harness.frames)
    with harness.qtbot.waitSignal(harness.worker.busy, timeout=30_000, check_params_cb=lambda f, _m: f >= 0):
        harness.cmd.seek.emit(late)  # forward over the whole file: the strategy runs for seconds
    early = info.start_ts + 5_000_000
    harness.cmd.seek.emit(early)  # supersedes the running seek at its next checkpoint
    harness.sync()
    resets = [f.local_ts for f in harness.frames[seen:] if f.reset]
    assert resets[-1] == early
    assert late not in resets  # the first seek stopped on the way


def test_request_counts() -> None:
    r = Requests()
    r.issue_seek()
    r.issue_seek()
    assert r.begin_seek() is None  # a newer one is queued: skip
    stop = r.begin_seek()
    assert stop is not None
    assert not stop()
    r.issue_open()
    assert stop()  # an open supersedes a running seek
    opening = r.begin_open()
    assert opening is not None
    assert not opening()
    assert r.begin_seek() is not None  # a seek sent without being counted still runs
    r.issue_command()
    r.cancel()  # pressed while the command waits in the queue
    assert opening()
    assert r.begin_command()()  # the queued command sees it when it starts
    assert r.begin_command()() is False  # an uncounted one counts from its start
    r.cancels_consumed()
    assert not r.idle_cancel()
    r.cancel()
    assert r.idle_cancel()  # a Cancel that stopped nothing reaches the indexing, once
    assert not r.idle_cancel()
