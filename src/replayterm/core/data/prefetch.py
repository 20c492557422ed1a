"""Run an iterator in a thread of its own, a few items ahead of the consumer.

The first open parses CSV in the thread that asks for the next batch (pyarrow's streaming reader
releases the GIL while it parses); normalizing and writing the previous batch meanwhile on the
caller's thread uses the second core. Items come in order; an exception in the producer is
raised in the consumer; closing the consumer stops the producer and closes its iterator.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_DONE = object()


def prefetch(make: Callable[[], Iterator[T]], depth: int = 2) -> Generator[T, None, None]:
    """Items of ``make()`` (created and consumed on a worker thread), at most ``depth`` ahead."""
    items: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                items.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator: Iterator[T] | None = None
        try:
            iterator = make()
            for item in iterator:
                if not put((True, item)):
                    return
            put((False, _DONE))
        except BaseException as exc:  # handed to the consumer, raised there
            put((False, exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="replayterm-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = items.get()
            if ok:
                yield item
            elif item is _DONE:
                return
            else:
                raise item
    finally:
        stop.set()
        worker.join()
