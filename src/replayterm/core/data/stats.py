"""Facts about a source that summaries (``replayterm info``, the GUI) show."""

from __future__ import annotations

import numpy as np

from replayterm.core.data.model import Kind, Source


def snapshot_runs(source: Source) -> int | None:
    """Snapshot messages in a book source (None for other kinds).

    incremental_book_L2: runs of consecutive snapshot rows (a snapshot after updates starts a new
    one). book_snapshot_N: every message (group of rows sharing one local_ts) is a snapshot.
    """
    if not source.is_book or source.rows == 0:
        return None if not source.is_book else 0
    if source.kind is Kind.BOOK_SNAPSHOT:
        ts = source.column("local_ts")
        return 1 + int(np.count_nonzero(ts[1:] != ts[:-1]))
    snap = source.column("is_snapshot").astype(bool)
    return int(snap[0]) + int(np.count_nonzero(snap[1:] & ~snap[:-1]))


def exchange_span(source: Source) -> tuple[int, int] | None:
    """Exchange time (``exch_ts``) of the first and the last row, in replay order."""
    if source.rows == 0:
        return None
    column = source.table.column("exch_ts")
    return int(column[0].as_py()), int(column[source.rows - 1].as_py())
