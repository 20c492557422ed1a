"""GC policy: cyclic garbage is collected on the GUI thread only, from a timer (DESIGN §4.8)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from replayterm.qt.gc_policy import GuiCollector


@pytest.fixture
def collector_threads() -> Iterator[list[str]]:
    seen: list[str] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(threading.current_thread().name)

    gc.callbacks.append(record)
    yield seen
    gc.callbacks.remove(record)


def make_cycles(n: int) -> None:
    for _ in range(n):
        a: list[object] = []
        a.append(a)


def test_cycles_made_on_another_thread_are_collected_on_the_gui_thread(qtbot, collector_threads) -> None:  # type: ignore[no-untyped-def]
    collector = GuiCollector(interval_ms=5)
    try:
        assert not gc.isenabled()
        allocator = threading.Thread(target=make_cycles, args=(200_000,), name="allocator")
        allocator.start()
        allocator.join()
        # 200k cycles would have triggered hundreds of automatic passes on "allocator".
        assert "allocator" not in collector_threads
        qtbot.waitUntil(lambda: collector.collections[0] > 0)
        assert set(collector_threads) == {threading.main_thread().name}
        assert collector.threads == {threading.main_thread().name}
        assert collector.collect_ms > 0
    finally:
        collector.stop()


def test_check_collects_the_oldest_generation_past_its_threshold(qapp) -> None:  # type: ignore[no-untyped-def]
    collector = GuiCollector(interval_ms=60_000)
    try:
        gc.collect()
        assert collector.check() == -1  # nothing allocated since: nothing to do
        make_cycles(collector.thresholds[0] + 50)
        assert collector.check() == 0
        for _ in range(4 * collector.thresholds[1]):  # each pass frees what the last one counted
            make_cycles(2 * collector.thresholds[0])
            collector.check()
        assert collector.collections[1] >= 1
    finally:
        collector.stop()


def test_stop_restores_automatic_collection(qapp) -> None:  # type: ignore[no-untyped-def]
    was = gc.isenabled()
    gc.enable()
    collector = GuiCollector()
    assert not gc.isenabled()
    collector.stop()
    assert gc.isenabled()
    if not was:
        gc.disable()
