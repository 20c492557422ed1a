"""Which days the data covers, the files and time window of each day, and walk-forward splits.

A day is a UTC calendar day of receive time (``local_ts``). A day's run reads the files whose
data touches that day; the window ``[day start, next day start)`` is applied only where a file
reaches past it (one file holding several days), so a run of a one-day Tardis file equals a
plain ``backtest`` of that file.

Walk-forward with ``TRAIN,TEST`` over the sorted days D0 … Dn-1: split k trains on
``D[k·TEST] … D[k·TEST + TRAIN − 1]`` and tests on the ``TEST`` days right after them; the
window then moves on by ``TEST`` days, so test days never overlap and every day after the first
``TRAIN`` is tested at most once. Only whole splits are made (a shorter tail is left out).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow.compute as pc

from replayterm.core.data.model import Source

DAY_US = 86_400_000_000


@dataclass(frozen=True)
class FileSpan:
    """First and last receive time (µs) of a file's rows; None for a file without rows."""

    path: str
    first_ts: int | None
    last_ts: int | None


@dataclass(frozen=True)
class DayWindow:
    """One UTC day: its label (YYYY-MM-DD), the files touching it, and the window to apply."""

    day: str
    files: tuple[str, ...]
    from_ts: int | None
    to_ts: int | None


@dataclass(frozen=True)
class Split:
    """One walk-forward split: choose parameters on ``train`` days, evaluate them on ``test`` days."""

    index: int
    train: tuple[str, ...]
    test: tuple[str, ...]


def file_span(path: str, sources: Sequence[Source]) -> FileSpan:
    """Receive-time span of one file from its opened sources (all symbols)."""
    lo: int | None = None
    hi: int | None = None
    for source in sources:
        ts = source.table.column("local_ts")
        if len(ts) == 0:
            continue
        mm = pc.min_max(ts).as_py()
        lo = mm["min"] if lo is None else min(lo, mm["min"])
        hi = mm["max"] if hi is None else max(hi, mm["max"])
    return FileSpan(path, lo, hi)


def day_start(ts: int) -> int:
    return (ts // DAY_US) * DAY_US


def day_label(ts: int) -> str:
    return datetime.fromtimestamp(day_start(ts) / 1e6, UTC).date().isoformat()


def day_windows(
    spans: Sequence[FileSpan], from_ts: int | None = None, to_ts: int | None = None
) -> list[DayWindow]:
    """One window per UTC day touched by any file, in time order, within ``[from_ts, to_ts)``
    when given (a day cut by them keeps only its part inside)."""
    starts: set[int] = set()
    for span in spans:
        if span.first_ts is None or span.last_ts is None:
            continue
        d = day_start(span.first_ts)
        while d <= span.last_ts:
            starts.add(d)
            d += DAY_US
    windows = []
    for start in sorted(starts):
        lo = start if from_ts is None else max(start, from_ts)
        hi = start + DAY_US if to_ts is None else min(start + DAY_US, to_ts)
        if lo >= hi:
            continue
        touching = [s for s in spans if s.first_ts is not None and s.last_ts is not None]
        touching = [s for s in touching if s.first_ts < hi and s.last_ts >= lo]  # type: ignore[operator]
        if not touching:
            continue
        windows.append(
            DayWindow(
                day=day_label(start),
                files=tuple(s.path for s in touching),
                from_ts=lo if any(s.first_ts < lo for s in touching) else None,  # type: ignore[operator]
                to_ts=hi if any(s.last_ts >= hi for s in touching) else None,  # type: ignore[operator]
            )
        )
    return windows


def walk_forward_splits(days: Sequence[str], train: int, test: int) -> list[Split]:
    """The splits described in the module docstring; ValueError when not even one fits."""
    if train < 1 or test < 1:
        raise ValueError(f"walk-forward needs TRAIN_DAYS >= 1 and TEST_DAYS >= 1, got {train},{test}")
    if len(days) < train + test:
        raise ValueError(
            f"walk-forward {train},{test} needs at least {train + test} days of data, "
            f"the files cover {len(days)}"
        )
    splits = []
    k = 0
    while k * test + train + test <= len(days):
        first = k * test
        splits.append(
            Split(k, tuple(days[first : first + train]), tuple(days[first + train : first + train + test]))
        )
        k += 1
    return splits
