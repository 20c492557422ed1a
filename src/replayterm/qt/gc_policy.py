"""Python's cyclic garbage collector runs on the GUI thread only (docs/architecture.md, "Threading").

Left automatic, the collector runs in whichever thread happens to allocate: the replay worker,
the server's encoding pool, the read-ahead, the watchdog or a sweep thread. Freeing a Qt wrapper
there while the GUI thread deletes widgets deadlocks (shiboken waits for the GIL under a Qt mutex
the GUI thread holds; seen once in a full test run). So ``GuiCollector`` turns automatic
collection off and collects from a timer on the GUI thread, one generation at a time, when that
generation's allocation count passes the threshold the interpreter would have used itself.
Reference counting still frees everything that is not in a cycle at once; only cycles wait for
the next check.

The app installs one for its lifetime; the GUI tests install one per test (tests/qt/conftest.py).
"""

from __future__ import annotations

import gc
import threading
import time

from PySide6.QtCore import QObject, QTimer

CHECK_INTERVAL_MS = 100  # short enough that a generation-0 pass stays well under a millisecond


class GuiCollector(QObject):
    """Collects cycles from a GUI-thread timer; ``stop`` gives the interpreter its automatic
    collection back. ``collections`` / ``collect_ms`` count the passes and their cost (the GUI
    benchmark reports them per frame); ``threads`` names the threads they ran on."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_INTERVAL_MS) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        self.collections = [0, 0, 0]
        self.collect_ms = 0.0
        self.threads: set[str] = set()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(int(interval_ms))
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> int:
        """Collect the oldest generation whose count passed its threshold; returns it (-1: none).

        Like the interpreter: generation 0 when its allocations exceed the first threshold; an
        older generation when the younger ones have been collected often enough."""
        counts = gc.get_count()
        generation = -1
        for gen in (2, 1, 0):
            if counts[gen] > self.thresholds[gen] > 0:
                generation = gen
                break
        if generation >= 0:
            self.collect(generation)
        return generation

    def collect(self, generation: int = 2) -> int:
        start = time.perf_counter()
        found = gc.collect(generation)
        self.collect_ms += (time.perf_counter() - start) * 1e3
        self.collections[generation] += 1
        self.threads.add(threading.current_thread().name)
        return found

    def stop(self) -> None:
        self._timer.stop()
        if self._was_enabled:
            gc.enable()

    def freeze(self) -> None:
        """Move everything alive now (modules, widgets, the scene) out of the collector's sight:
        later full passes then look only at what the replay created since (``gc.freeze``)."""
        self.collect(2)
        gc.freeze()
