"""Driving the tardis-machine snapshot kernel over one book, in chunks (export and the server).

``SnapshotCursor`` owns a ``BookReplayer`` and one ``SnapshotState`` per requested snapshot
kind. ``start(g)`` positions the book before group ``g``; when that is past the file's first
snapshot, the book as it stands is taken as a synthesized opening snapshot (as a fresh
tardis-machine request would start with one), which writes the first row at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from replayterm.core.book import BookReplayer
from replayterm.core.book.interval_snapshots import SnapshotState, compute_snapshots, observe_current

DEFAULT_CHUNK_ROWS = 65_536


@dataclass(frozen=True)
class SnapshotRows:
    """Rows of one snapshot kind. Columns 2j / 2j+1 of ``px``/``amt`` are ask j / bid j (NaN = none)."""

    px: np.ndarray
    amt: np.ndarray
    ts: np.ndarray  # exchange-time row timestamp (µs)
    group: np.ndarray  # message group whose receive time is the row's local timestamp
    local_ts: np.ndarray  # that receive time (µs); the requested start for an opening row

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    @classmethod
    def concat(cls, parts: list[SnapshotRows], width: int) -> SnapshotRows:
        if not parts:
            e = np.empty(0, np.int64)
            return cls(np.empty((0, width)), np.empty((0, width)), e, e, e)
        return cls(
            np.concatenate([p.px for p in parts]),
            np.concatenate([p.amt for p in parts]),
            np.concatenate([p.ts for p in parts]),
            np.concatenate([p.group for p in parts]),
            np.concatenate([p.local_ts for p in parts]),
        )


def group_exchange_ts(replayer: BookReplayer) -> np.ndarray:
    """Exchange time of each message group (its last row's), as the kernel reads it."""
    ev = replayer.events
    return ev.exch_ts[ev.group_start[1:] - 1]


class SnapshotCursor:
    """One book replayed through the snapshot kernel; several snapshot kinds share nothing but data."""

    def __init__(self, replayer: BookReplayer, state: SnapshotState, group_exch_ts: np.ndarray | None = None):
        self.replayer = replayer
        self.state = state
        self.group_exch_ts = group_exchange_ts(replayer) if group_exch_ts is None else group_exch_ts

    @property
    def position(self) -> int:
        return self.replayer.position

    def start(self, group: int, local_ts: int | None = None) -> SnapshotRows:
        """Restart the computation before ``group``; returns the opening row if the book is not empty.

        The opening row's local timestamp is ``local_ts`` (the requested start), or the receive
        time of the last message applied when not given.
        """
        ev = self.replayer.events
        self.state.reset()
        group = max(0, min(group, ev.n_groups))
        self.replayer.seek_group(group)
        width = 2 * self.state.depth
        if group <= ev.first_snapshot_group or group == 0:
            return SnapshotRows.concat([], width)
        book = self.replayer.book
        exch = int(self.group_exch_ts[group - 1])
        if not observe_current(ev.prices, book.amounts, book.st, self.state, exch):
            return SnapshotRows.concat([], width)
        return SnapshotRows(
            self.state.px[None, :].copy(),
            self.state.amt[None, :].copy(),
            np.array([exch], dtype=np.int64),
            np.array([group - 1], dtype=np.int64),
            np.array([ev.local_ts[ev.group_start[group - 1]] if local_ts is None else local_ts], np.int64),
        )

    def advance(self, g_end: int, max_rows: int = DEFAULT_CHUNK_ROWS) -> SnapshotRows:
        """Apply groups up to ``g_end`` (exclusive), returning at most about ``max_rows`` rows.

        Stops early when the row buffer is full; call again until ``position == g_end``.
        """
        ev = self.replayer.events
        book = self.replayer.book
        s = self.state
        cap = max(2, max_rows)
        width = 2 * s.depth
        out_px = np.empty((cap, width))
        out_amt = np.empty((cap, width))
        out_ts = np.empty(cap, dtype=np.int64)
        out_group = np.empty(cap, dtype=np.int64)
        n = compute_snapshots(
            ev.groups, ev.key, ev.amount, ev.prices, book.amounts, book.st, self.group_exch_ts,
            min(g_end, ev.n_groups), s.depth, s.interval_us, s.grouping, s.grouping_pow, s.scalars,
            s.px, s.amt, out_px, out_amt, out_ts, out_group,
        )  # fmt: skip
        group = out_group[:n]
        return SnapshotRows(out_px[:n], out_amt[:n], out_ts[:n], group, ev.local_ts[ev.group_start[group]])

    def run_to(self, g_end: int, max_rows: int = DEFAULT_CHUNK_ROWS) -> list[SnapshotRows]:
        parts = []
        g_end = min(g_end, self.replayer.events.n_groups)
        while self.position < g_end:
            rows = self.advance(g_end, max_rows)
            if len(rows):
                parts.append(rows)
        return parts
