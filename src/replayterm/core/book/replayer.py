"""``BookReplayer``: one symbol's book driven message by message, in batches, or by exact seek."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from replayterm.core.book import kernel as k
from replayterm.core.book.book import Book
from replayterm.core.book.checkpoints import DEFAULT_MIN_INTERVAL_ROWS, Checkpoints, build_checkpoints
from replayterm.core.book.events import BookEvents


class BookReplayer:
    """Owns a symbol's events, its live ``Book`` and (optionally) its checkpoints.

    Position p means groups ``[0, p)`` are applied; ``book`` is observable only at such
    boundaries. All moves (``step``, ``apply_until``, ``seek``) leave the book identical to a
    straight replay from the start to the same position, counters included.
    """

    def __init__(self, events: BookEvents, checkpoints: Checkpoints | None = None) -> None:
        self.events = events
        self.checkpoints = checkpoints
        self.book = Book(events.prices)
        # Bound once: the per-message path then pays one attribute lookup and one dispatch.
        self._args = (events.groups, events.key, events.amount, self.book.amounts, self.book.st)
        self._step = k.step_group
        self._apply = k.apply_groups

    # -- where we are ----------------------------------------------------------------------

    @property
    def position(self) -> int:
        """Index of the next group to apply (= number of groups applied)."""
        return int(self.book.st[k.POS])

    @property
    def n_groups(self) -> int:
        return self.events.n_groups

    @property
    def at_end(self) -> bool:
        return self.position >= self.events.n_groups

    @property
    def ts(self) -> int | None:
        """``group_ts`` of the last applied group (None before the first)."""
        p = self.position
        return int(self.events.group_ts[p - 1]) if p > 0 else None

    @property
    def next_ts(self) -> int | None:
        """``group_ts`` of the next group (None at the end)."""
        p = self.position
        return int(self.events.group_ts[p]) if p < self.events.n_groups else None

    @property
    def skipped_rows(self) -> int:
        """Rows skipped so far because they came before the first snapshot."""
        return self.events.skipped_rows_before(self.position)

    # -- moving forward --------------------------------------------------------------------

    def step(self) -> int:
        """Apply one message group; return its index, or -1 when already at the end."""
        return self._step(*self._args)

    def apply_until(self, ts: int) -> int:
        """Apply every group with ``group_ts <= ts`` (forward only); return how many were applied."""
        return self.apply_through(self.events.groups_through(ts))

    def apply_through(self, position: int) -> int:
        """Apply groups up to ``position`` (exclusive), forward only; return how many were applied."""
        start = self.position
        if position > start:
            self._apply(*self._args, min(position, self.events.n_ready))
        return self.position - start

    def run_to_end(self) -> int:
        return self.apply_through(self.events.n_groups)

    # -- seeking ---------------------------------------------------------------------------

    def seek(self, ts: int) -> None:
        """Position after every group with ``group_ts <= ts`` (before the first group if none)."""
        self.seek_group(self.events.groups_through(ts))

    def seek_group(self, position: int) -> None:
        """Position so that groups ``[0, position)`` are applied, in either direction.

        Restores the last checkpoint at or before ``position`` unless going forward from the
        current state re-applies fewer rows, then applies the remaining groups.
        """
        position = max(0, min(int(position), self.events.n_ready))
        current = self.position
        cps = self.checkpoints
        j = cps.last_at_or_before(position) if cps is not None else -1
        start = int(cps.position[j]) if cps is not None and j >= 0 else 0
        if start <= current <= position:
            self._apply(*self._args, position)
            return
        if cps is not None and j >= 0:
            cps.restore(j, self.book)
        else:
            self.reset()
        self._apply(*self._args, position)

    def reset(self) -> None:
        """Back to the empty book before the first group."""
        st = self.book.st
        k.restore_state(
            self.book.amounts,
            st,
            np.empty(0, dtype=np.int32),
            np.empty(0, dtype=np.float64),
            np.empty(0, dtype=np.int32),
            np.empty(0, dtype=np.float64),
            k.new_scalar_state(),
        )

    # -- checkpoints -----------------------------------------------------------------------

    def build_checkpoints(
        self,
        *,
        budget_bytes: int | None = None,
        min_interval_rows: int = DEFAULT_MIN_INTERVAL_ROWS,
        record_best: bool = False,
        progress: Callable[[float], object] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> Checkpoints:
        """Build checkpoints in one pass (own scratch state; the live book is untouched) and use them."""
        self.checkpoints = build_checkpoints(
            self.events,
            budget_bytes=budget_bytes,
            min_interval_rows=min_interval_rows,
            record_best=record_best,
            progress=progress,
            cancel=cancel,
        )
        return self.checkpoints
