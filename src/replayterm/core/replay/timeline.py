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
from pathlib import Path
from typing import Any

import numba as nb
import numpy as np

from replayterm.core.store.arrays import ArrayStore, open_index
from replayterm.core.store.locks import EntryLock

MERGE_WINDOW = 1 << 20  # events merged per window when the timeline is built on disk


@dataclass(frozen=True)
class TimelineInput:
    """One stream for the timeline: event times in stream order; ``is_book`` streams go after others.

    ``ts`` is a numpy array (possibly mapped) or a ``ChunkedColumn``."""

    ts: Any
    is_book: bool


@dataclass(eq=False)
class Timeline:
    """Merged events: ``ts[k]`` is event k's time, ``stream[k]`` its input, ``item[k]`` its index there.

    While it is being built in the background only the first ``n_ready`` events are filled in;
    they hold every event with ``local_ts <= ready_ts``.
    """

    ts: np.ndarray  # int64, non-decreasing
    stream: np.ndarray  # int16, index into the inputs given to ``build``
    item: np.ndarray  # int64, row (or message group) within that stream
    ready: int = -1  # events usable now; -1 = all
    ready_ts: int = np.iinfo(np.int64).max
    first_ts: int | None = None  # first and last event times, known before the merge is done
    last_ts: int | None = None

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    @property
    def complete(self) -> bool:
        return self.ready < 0

    @property
    def n_ready(self) -> int:
        return len(self) if self.ready < 0 else self.ready

    @property
    def start_ts(self) -> int | None:
        if self.first_ts is not None:
            return self.first_ts
        return int(self.ts[0]) if len(self) else None

    @property
    def end_ts(self) -> int | None:
        if self.last_ts is not None:
            return self.last_ts
        return int(self.ts[-1]) if len(self) else None

    def position_at(self, ts: int) -> int:
        """Number of events with ``local_ts <= ts`` (the position after replaying up to ``ts``)."""
        return int(np.searchsorted(self.ts[: self.n_ready], ts, side="right"))

    def next_of_stream(self, position: int, streams: Sequence[int]) -> int | None:
        """Position of the first event at or after ``position`` that belongs to one of ``streams``."""
        if not streams:
            return None
        wanted = np.asarray(streams, dtype=np.int16)
        chunk = 4096  # the next hit is usually close: scan in growing windows, not the whole tail
        end = self.n_ready
        while position < end:
            hits = np.flatnonzero(np.isin(self.stream[position : min(position + chunk, end)], wanted))
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


class TimelineBuild:
    """The merge done window by window into arrays of an ``ArrayStore`` (mapped files on disk).

    Each window takes about ``MERGE_WINDOW`` events of the inputs, sorts them stably by time (in
    the timeline's stream order) and appends them, so memory is bounded by the window. ``advance``
    may stop at a time limit (books still being indexed): events up to it are then usable.
    """

    def __init__(
        self,
        inputs: Sequence[TimelineInput],
        folder: Path | None,
        window: int = MERGE_WINDOW,
        spans: Sequence[tuple[int, int] | None] | None = None,
        lock: EntryLock | None = None,
    ) -> None:
        """``spans``: first and last time of each input, for inputs not filled in yet; ``lock``:
        the held lock of ``folder``, released when the build is committed or discarded."""
        self.inputs = list(inputs)
        self.order = sorted(range(len(inputs)), key=lambda i: (inputs[i].is_book, i))
        self.window = max(1, int(window))
        total = sum(len(inp.ts) for inp in inputs)
        self.store = ArrayStore(folder, lock)
        self.pos = [0] * len(inputs)
        self.written = 0
        if spans is None:
            spans = [(int(i.ts[0]), int(i.ts[len(i.ts) - 1])) if len(i.ts) else None for i in inputs]
        firsts = [sp[0] for sp in spans if sp is not None]
        lasts = [sp[1] for sp in spans if sp is not None]
        try:
            ts = self.store.create("ts", np.int64, (total,))
            stream = self.store.create("stream", np.int16, (total,))
            item = self.store.create("item", np.int64, (total,))
        except BaseException:
            self.store.discard()
            raise
        self.timeline = Timeline(
            np.asarray(ts),
            np.asarray(stream),
            np.asarray(item),
            ready=0,
            ready_ts=min(firsts) - 1 if firsts else 0,
            first_ts=min(firsts) if firsts else None,
            last_ts=max(lasts) if lasts else None,
        )

    @property
    def done(self) -> bool:
        return self.written >= len(self.timeline)

    def advance(self, limit_ts: int | None = None, available: Sequence[int] | None = None) -> bool:
        """Merge every event with ``ts < limit_ts`` (all when None) among the first ``available[i]``
        items of each input; True once the whole timeline is merged."""
        avail = [len(inp.ts) for inp in self.inputs] if available is None else list(available)
        tl = self.timeline
        cap = np.iinfo(np.int64).max if limit_ts is None else int(limit_ts) - 1
        while True:
            active = [i for i in self.order if self.pos[i] < avail[i]]
            if not active:
                break
            ends = []
            for i in active:
                last = min(self.pos[i] + self.window, avail[i]) - 1
                ends.append(int(self.inputs[i].ts[last]))
            edge = min(min(ends), cap)
            if edge < min(int(self.inputs[i].ts[self.pos[i]]) for i in active):
                break
            ts_parts, stream_parts, item_parts = [], [], []
            for i in self.order:
                p0 = self.pos[i]
                if p0 >= avail[i]:
                    continue
                p1 = min(_count_through(self.inputs[i].ts, edge, avail[i]), avail[i])
                if p1 <= p0:
                    continue
                ts_parts.append(np.asarray(self.inputs[i].ts[p0:p1], dtype=np.int64))
                stream_parts.append(np.full(p1 - p0, i, dtype=np.int16))
                item_parts.append(np.arange(p0, p1, dtype=np.int64))
                self.pos[i] = p1
            w0 = self.written
            if len(ts_parts) == 1:  # one stream in this window: already in order
                w1 = w0 + ts_parts[0].shape[0]
                tl.ts[w0:w1] = ts_parts[0]
                tl.stream[w0:w1] = stream_parts[0]
                tl.item[w0:w1] = item_parts[0]
            else:
                all_ts = np.concatenate(ts_parts)
                runs = np.cumsum([0] + [p.shape[0] for p in ts_parts]).astype(np.int64)
                perm = _merge_runs(all_ts, runs)
                w1 = w0 + all_ts.shape[0]
                tl.ts[w0:w1] = all_ts[perm]
                tl.stream[w0:w1] = np.concatenate(stream_parts)[perm]
                tl.item[w0:w1] = np.concatenate(item_parts)[perm]
            self.written = w1
            tl.ready = w1
            tl.ready_ts = edge
        if self.done:
            tl.ready = -1
            tl.ready_ts = np.iinfo(np.int64).max
        return self.done

    def commit(self, key: dict[str, Any]) -> Timeline:
        """Make a finished timeline visible on disk (no-op in memory)."""
        assert self.done
        self.store.commit(key, {})
        return self.timeline

    def discard(self) -> None:
        self.store.discard()


@nb.njit(cache=True)
def _merge_runs(ts: np.ndarray, runs: np.ndarray) -> np.ndarray:
    """Stable sort order of ``ts`` made of sorted runs ``[runs[i], runs[i+1])``: pairwise merges
    (linear per pass) instead of a general sort; ties keep the earlier run first."""
    n = ts.shape[0]
    perm = np.arange(n)
    tmp = np.empty(n, dtype=np.int64)
    bounds = runs.copy()
    while bounds.shape[0] > 2:
        nb_ = bounds.shape[0] - 1
        new_bounds = np.empty(nb_ // 2 + nb_ % 2 + 1, dtype=np.int64)
        j = 0
        for r in range(0, nb_, 2):
            lo = bounds[r]
            mid = bounds[r + 1]
            hi = bounds[r + 2] if r + 2 <= nb_ else mid
            a, b, o = lo, mid, lo
            while a < mid and b < hi:
                if ts[perm[b]] < ts[perm[a]]:
                    tmp[o] = perm[b]
                    b += 1
                else:
                    tmp[o] = perm[a]
                    a += 1
                o += 1
            while a < mid:
                tmp[o] = perm[a]
                a += 1
                o += 1
            while b < hi:
                tmp[o] = perm[b]
                b += 1
                o += 1
            new_bounds[j] = lo
            j += 1
        new_bounds[j] = bounds[nb_]
        perm[:] = tmp
        bounds = new_bounds
    return perm


def _count_through(ts: Any, value: int, avail: int) -> int:
    """Items of a sorted stream with time <= value, among its first ``avail``."""
    if isinstance(ts, np.ndarray):
        return int(np.searchsorted(ts[:avail], value, side="right"))
    return min(int(ts.searchsorted(value, side="right")), avail)


def open_timeline(folder: Path, key: dict[str, Any], total: int) -> Timeline | None:
    """A committed timeline in ``folder``, mapped, or None when it must be (re)built."""
    found = open_index(folder, key)
    if found is None:
        return None
    a, _ = found
    ts, stream, item = (np.asarray(a[n]) for n in ("ts", "stream", "item"))
    if not (ts.shape == stream.shape == item.shape == (total,)) or (total and ts[0] > ts[-1]):
        return None  # rebuilt under the lock; the commit replaces it
    return Timeline(ts, stream, item)
