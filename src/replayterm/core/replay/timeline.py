"""One replay order over several sources (book + trades, several symbols), as index arrays.

Order is ``(local_ts, source order, row)`` with trade-like sources placed before book sources,
so at equal ``local_ts`` trades come first. A book source contributes one event per
message (run of rows sharing ``local_ts``); every other source one event per row. Nothing is
copied: the timeline holds only which source and which item each event is.

See docs/architecture.md, "Timeline".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TimelineInput:
    """One stream for the timeline: event times in stream order; ``is_book`` streams go after others."""

    ts: np.ndarray
    is_book: bool


@dataclass(frozen=True)
class Timeline:
    """Merged events: ``ts[k]`` is event k's time, ``stream[k]`` its input, ``item[k]`` its index there."""

    ts: np.ndarray  # int64, non-decreasing
    stream: np.ndarray  # int16, index into the inputs given to ``build``
    item: np.ndarray  # int64, row (or message group) within that stream

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    @property
    def start_ts(self) -> int | None:
        return int(self.ts[0]) if len(self) else None

    @property
    def end_ts(self) -> int | None:
        return int(self.ts[-1]) if len(self) else None

    def position_at(self, ts: int) -> int:
        """Number of events with ``local_ts <= ts`` (the position after replaying up to ``ts``)."""
        return int(np.searchsorted(self.ts, ts, side="right"))

    def next_of_stream(self, position: int, streams: Sequence[int]) -> int | None:
        """Position of the first event at or after ``position`` that belongs to one of ``streams``."""
        if not streams:
            return None
        wanted = np.asarray(streams, dtype=np.int16)
        chunk = 4096  # the next hit is usually close: scan in growing windows, not the whole tail
        while position < len(self):
            hits = np.flatnonzero(np.isin(self.stream[position : position + chunk], wanted))
            if hits.size:
                return position + int(hits[0])
            position += chunk
            chunk *= 4
        return None

    @classmethod
    def build(cls, inputs: Sequence[TimelineInput]) -> Timeline:
        # Non-book streams first so that a stable sort puts them before book events at equal ts.
        order = sorted(range(len(inputs)), key=lambda i: (inputs[i].is_book, i))
        ts_parts, stream_parts, item_parts = [], [], []
        for i in order:
            ts = np.asarray(inputs[i].ts, dtype=np.int64)
            ts_parts.append(ts)
            stream_parts.append(np.full(ts.shape[0], i, dtype=np.int16))
            item_parts.append(np.arange(ts.shape[0], dtype=np.int64))
        if not ts_parts:
            empty = np.empty(0, dtype=np.int64)
            return cls(empty, np.empty(0, dtype=np.int16), empty)
        all_ts = np.concatenate(ts_parts)
        # Each stream is already sorted, so the stable sort is a cheap merge of sorted runs.
        perm = np.argsort(all_ts, kind="stable")
        return cls(all_ts[perm], np.concatenate(stream_parts)[perm], np.concatenate(item_parts)[perm])
