"""The read-ahead thread: items in order, errors raised in the consumer, close stops the producer."""

from __future__ import annotations

import threading
from collections.abc import Generator

import pytest

from replayterm.core.data.prefetch import prefetch


def test_items_in_order_and_produced_off_the_callers_thread() -> None:
    threads: set[int] = set()

    def numbers() -> Generator[int, None, None]:
        for i in range(100):
            threads.add(threading.get_ident())
            yield i

    assert list(prefetch(numbers, depth=3)) == list(range(100))
    assert threads
    assert threading.get_ident() not in threads


def test_an_error_in_the_producer_is_raised_in_the_consumer() -> None:
    def failing() -> Generator[int, None, None]:
        yield 1
        raise ValueError("bad row")

    items = prefetch(failing)
    assert next(items) == 1
    with pytest.raises(ValueError, match="bad row"):
        next(items)


def test_closing_early_stops_the_producer_and_closes_its_iterator() -> None:
    closed = threading.Event()
    produced = []

    def endless() -> Generator[int, None, None]:
        try:
            i = 0
            while True:
                produced.append(i)
                yield i
                i += 1
        finally:
            closed.set()

    items = prefetch(endless, depth=2)
    assert [next(items) for _ in range(5)] == [0, 1, 2, 3, 4]
    items.close()
    assert closed.is_set()
    assert len(produced) <= 5 + 3  # never more than the read-ahead beyond what was taken
