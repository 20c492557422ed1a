"""Row order of a file: rows keep arrival (file) order; receive time is made non-decreasing.

Decision: a ``local_timestamp`` that goes backwards is not an error. Real captures contain such
rows (a recorder's clock adjustment), and refusing them would make those files unusable. Rows
are never re-sorted, because re-sorting reorders updates of the same price level and can move
rows across a snapshot. Instead each (exchange, symbol) group's ``local_ts`` is clamped to its
running maximum, so the replay's time axis never steps back; the rows raised that way are
counted (``Source.unsorted_rows``), a warning names the first line where time went backwards,
and their raw receive times are kept (``Source.receive_ts``) for export.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

INT64_MIN = np.iinfo(np.int64).min


@dataclass
class Clock:
    """The running maximum of one group's receive time and what clamping it changed."""

    high: int = INT64_MIN
    rows: int = 0  # rows of the group seen so far
    clamped_file_rows: int = 0
    first_backwards: int | None = None  # 0-based file row where local_ts first went backwards
    fixes: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # (group row, raw ts)

    def clamp(self, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """``(clamped ts, indices of raised rows)`` for the next rows of the group, or None if
        none needed raising. Records the raw times of raised rows."""
        if ts.size == 0:
            return None
        if ts[0] >= self.high and (ts.size < 2 or bool(np.all(ts[1:] >= ts[:-1]))):
            self.high = int(ts[-1])
            self.rows += ts.size
            return None
        running = np.maximum.accumulate(ts)
        np.maximum(running, self.high, out=running)
        raised = np.flatnonzero(running != ts)
        self.fixes.append((raised + self.rows, ts[raised].astype(np.int64)))
        self.high = int(running[-1])
        self.rows += ts.size
        return running, raised

    @property
    def fixed_rows(self) -> int:
        return sum(rows.size for rows, _ in self.fixes)
