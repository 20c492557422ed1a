"""Opening files for the worker: sources to instruments, and what the GUI learns about them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from replayterm.core.data import DataError, Source, open_sources
from replayterm.core.replay.indexing import IndexJob
from replayterm.core.replay.instruments import Instrument, build_instruments
from replayterm.core.replay.opening import OpenedData
from replayterm.core.session import ReplaySession


@dataclass(frozen=True)
class OpenedInfo:
    """What the GUI needs to know about newly opened data."""

    paths: list[str]
    instruments: list[str]
    start_ts: int
    end_ts: int
    gaps: list[int]
    warnings: list[str] = field(default_factory=list)
    events: int = 0
    focus: int = 0
    # BBO check (L2 + book_ticker of one instrument): a line per instrument and mismatch times.
    checks: list[str] = field(default_factory=list)
    bbo_mismatches: list[int] = field(default_factory=list)
    # Sequence gaps of raw recordings: (start, end or the data's end, description).
    sequence_gaps: list[tuple[int, int, str]] = field(default_factory=list)
    days: list[int] = field(default_factory=list)  # where each further file (day) begins
    indexing: bool = False  # the rest is still being indexed (see ``index_progress``)


@dataclass
class Opened:
    sources: list[Source]
    instruments: OpenedData  # its timeline and job go to the session
    job: IndexJob | None  # the rest of a big open, indexed in the background


def open_files(
    paths: Sequence[str], progress: Callable[[float, str], None], cancel: Callable[[], bool]
) -> Opened:
    """Read and index the first part of ``paths`` (the rest is left to the returned job).
    Raises ``DataError`` for files with nothing to replay, ``Cancelled`` when cancelled."""
    job = None
    try:
        sources = open_sources(list(paths), progress=lambda f, msg: progress(0.6 * f, msg), cancel=cancel)
        if not sources or not any(s.rows for s in sources):
            raise DataError(", ".join(map(str, paths)), "no rows to replay", hint="Open a non-empty file")
        # The first part is indexed now; the rest in the background, with play and seek working
        # in the indexed part meanwhile.
        instruments = build_instruments(
            sources, progress=lambda f, msg: progress(0.6 + 0.4 * f, msg), cancel=cancel, progressive=True
        )
        job = instruments.job
        if not instruments:
            raise DataError(
                ", ".join(map(str, paths)),
                "no book or trades to replay in these files",
                hint="Open an incremental_book_L2, book_snapshot_N or trades file",
            )
    except BaseException:
        if job is not None:
            job.discard()
        raise
    return Opened(sources, instruments, job)


def opened_info(paths: Sequence[str], opened: Opened, session: ReplaySession) -> OpenedInfo:
    cursor = session.cursor
    checks = session.bbo_checks()
    return OpenedInfo(
        paths=[str(p) for p in paths],
        instruments=[i.name for i in opened.instruments],
        start_ts=cursor.start_ts,
        end_ts=cursor.end_ts,
        gaps=[int(g) for g in cursor.gaps()],
        warnings=[w for s in opened.sources for w in s.warnings] + session.data_notes(),
        events=cursor.n_events,
        focus=session.focus,
        checks=[c.summary_line() for c in checks],
        bbo_mismatches=[int(t) for c in checks for t in c.mismatch_ts[:5000]],
        days=[int(d) for d in cursor.file_starts()],
        indexing=opened.job is not None,
        sequence_gaps=_sequence_gaps(opened.instruments, cursor.end_ts),
    )


def _sequence_gaps(instruments: Sequence[Instrument], end: int) -> list[tuple[int, int, str]]:
    from replayterm.core.data.sources.raw.gaps import describe

    return [
        (int(g.start_ts), int(g.end_ts if g.end_ts is not None else end), describe(g, end))
        for inst in instruments
        for g in inst.sequence_gaps
    ]
