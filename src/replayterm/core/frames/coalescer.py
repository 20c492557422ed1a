"""``FrameCoalescer``: the worker may publish faster than the screen refreshes.

It keeps the latest state of the current generation and concatenates the appended streams of
every frame it swallowed (each ``streams.STREAM_FIELDS`` batch, and each strategy's records), so
a view that only sees the rendered frames still receives every trade and fill.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from replayterm.core.frames.batches import Batch
from replayterm.core.frames.frame import Frame
from replayterm.core.frames.strategies import StrategyFrame
from replayterm.core.frames.streams import STREAM_FIELDS


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
        self._batches: dict[str, list[Batch]] = {name: [] for name in STREAM_FIELDS}
        self._strategies: dict[int, StrategyFrame] = {}

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
        for name, batches in self._batches.items():
            batch: Batch = getattr(frame, name)
            if len(batch):
                batches.append(batch)
        for sf in frame.strategies:
            prev = self._strategies.get(sf.key)
            self._strategies[sf.key] = sf if prev is None else prev.followed_by(sf)
        return True

    def _start_over(self) -> None:
        self._reset = True
        self._latest = None
        self._clear()

    def _clear(self) -> None:
        for batches in self._batches.values():
            batches.clear()
        self._strategies.clear()

    @property
    def pending(self) -> bool:
        return self._latest is not None

    def take(self) -> Frame | None:
        latest = self._latest
        if latest is None:
            return None
        merged: dict[str, Any] = {
            name: type(batches[0]).concat(batches) if batches else getattr(latest, name)
            for name, batches in self._batches.items()
        }
        frame = replace(
            latest,
            reset=self._reset,
            strategies=[self._strategies.get(sf.key, sf) for sf in latest.strategies],
            **merged,
        )
        self._latest = None
        self._reset = False
        self._clear()
        return frame
