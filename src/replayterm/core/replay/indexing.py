"""Out-of-core indexing of opened sources: book indexes and the merged timeline, stored and mapped.

Where things go (CONTRACTS): a book read from one cached file is indexed in that entry's
``{stem}.d/`` folder; a book joined from several files (days of one symbol) and every timeline
live under ``<cache root>/sets/<hash of the member entries>/``. Without the cache (or for sources
not read from it) a private temporary folder is used and removed with the instrument.

``IndexJob`` is the part still to build. ``build_instruments`` runs it to the end (with progress
and cancel); the app instead keeps the replay usable on the indexed part and calls ``step`` between
its own work. A job that is cancelled or fails removes every folder it was writing.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from replayterm.core.book import BookReplayer
from replayterm.core.book.columns import ChunkedColumn
from replayterm.core.book.indexer import BookColumns, BookIndexBuild, open_book_index
from replayterm.core.data.cache import CacheEntry, cache_dir
from replayterm.core.data.model import Kind, Source
from replayterm.core.data.progress import Cancelled
from replayterm.core.replay.opening import OpenedData
from replayterm.core.replay.timeline import Timeline, TimelineBuild, TimelineInput, open_timeline
from replayterm.core.store.arrays import INDEX_VERSION, remove_stale, scratch_dir
from replayterm.core.store.locks import EntryLock, acquire, lock_path_for

ProgressFn = Callable[[float, str], object]
SCAN_SHARE = 0.2  # of the progress bar: the pre-pass over the rows before indexing them
CancelFn = Callable[[], bool]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:20]


def entry_stems(sources: Sequence[Source]) -> list[str] | None:
    """The cache entry stem of each source, or None when one of them is not from the cache."""
    stems = []
    for s in sources:
        if s.cache_state not in ("built", "hit"):
            return None
        try:
            entry = CacheEntry(Path(s.path))
        except OSError:
            return None
        if not entry.data.exists():
            return None
        stems.append(entry.data.stem)
    return stems


def time_span(s: Source) -> tuple[int, int] | None:
    """First and last ``local_ts`` of a source, read from its first and last chunks only
    (``Source.time_span`` joins the whole column)."""
    chunks = [c for c in s.table.column("local_ts").chunks if len(c)]
    if not chunks:
        return None
    return int(chunks[0][0].as_py()), int(chunks[-1][len(chunks[-1]) - 1].as_py())


def source_key(s: Source) -> dict[str, Any]:
    span = time_span(s)
    return {"kind": s.kind.value, "exchange": s.exchange, "symbol": s.symbol, "rows": s.rows, "span": span}


def book_folder(sources: Sequence[Source], cols: BookColumns) -> Path | None:
    """Where the index of this book lives in the cache, or None (not cached)."""
    stems = entry_stems(sources)
    if stems is None:
        return None
    root = cache_dir()
    if len(stems) == 1:
        base = CacheEntry(Path(sources[0].path)).derived_dir
    else:
        base = root / "sets" / _digest("|".join(stems))
    return base / f"book-{_digest(json.dumps(cols.key(), sort_keys=True))}-v{INDEX_VERSION}"


def _ordered(sources: Sequence[Source]) -> list[Source]:
    return sorted(sources, key=lambda s: (time_span(s) or (0, 0))[0])  # stable: ties keep order


def _in_order(sources: Sequence[Source]) -> bool:
    """Each source starts at or after the previous one ends (days), so they join without sorting."""
    spans = [sp for sp in (time_span(s) for s in sources) if sp is not None]
    return all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


class IndexJob:
    """Book indexes and a timeline being built; the replay may use what is ready."""

    def __init__(
        self,
        books: list[tuple[Any, BookIndexBuild]],
        timeline: TimelineBuild | None,
        timeline_key: dict[str, Any],
        book_inputs: list[int],
    ) -> None:
        self.books = books  # (instrument, build)
        self.timeline_build = timeline
        self.timeline_key = timeline_key
        self.book_inputs = book_inputs  # timeline input index of each book, in ``books`` order
        self.total_rows = sum(b.cols.n_rows for _, b in books) or 1
        self.finished = False

    @property
    def fraction(self) -> float:
        if self.finished:
            return 1.0
        done = sum(b.fraction * b.cols.n_rows for _, b in self.books)
        return min(done / self.total_rows, 1.0)

    @property
    def ready_ts(self) -> int:
        """Every event at or before this time is replayable."""
        tl = self.timeline_build
        return tl.timeline.ready_ts if tl is not None else 2**63 - 1

    def step(self, max_rows: int | None = None) -> bool:
        """Index about ``max_rows`` more rows of each unfinished book and merge what became ready."""
        if self.finished:
            return True
        try:
            for inst, build in self.books:
                build.step(max_rows)
                inst.book.checkpoints = build.checkpoints()
            self._merge()
            if all(b.ready.groups >= b.n_groups for _, b in self.books) and (
                self.timeline_build is None or self.timeline_build.done
            ):
                self._commit()
            return self.finished
        except BaseException:
            self.discard()
            raise

    def _merge(self) -> None:
        tl = self.timeline_build
        if tl is None:
            return
        avail = [len(inp.ts) for inp in tl.inputs]
        limit: int | None = None
        for (_, build), i in zip(self.books, self.book_inputs, strict=True):
            ready = build.ready.groups
            avail[i] = ready
            if ready < build.n_groups:
                edge = int(build.group_ts[ready - 1]) if ready else tl.timeline.first_ts or 0
                limit = edge if limit is None else min(limit, edge)
        tl.advance(limit, avail)

    def _commit(self) -> None:
        for inst, build in self.books:
            _, cps = build.commit()
            inst.book.checkpoints = cps
        if self.timeline_build is not None:
            self.timeline_build.commit(self.timeline_key)
        self.finished = True

    def run(
        self, progress: ProgressFn | None = None, cancel: CancelFn | None = None, message: str = ""
    ) -> None:
        """Step to the end, reporting progress; ``Cancelled`` removes what was being written."""
        while not self.finished:
            if cancel is not None and cancel():
                self.discard()
                raise Cancelled("indexing cancelled")
            self.step()
            if progress is not None:
                progress(SCAN_SHARE + (1 - SCAN_SHARE) * self.fraction, message)

    def discard(self) -> None:
        for _, build in self.books:
            build.discard()
        if self.timeline_build is not None:
            self.timeline_build.discard()


def index_instruments(
    by_key: dict[tuple[str, str], list[Source]],
    make_instrument: Callable[[str, str], Any],
    prepare: Callable[[Any, list[Source]], list[Source]],
    make_trades: Callable[[list[Source]], Any],
    *,
    cancel: CancelFn | None = None,
    progress: ProgressFn | None = None,
) -> OpenedData:
    """Instruments whose books are indexed out of core (see the module docstring); the result's
    ``job`` is the work left (None when every index was found in the cache)."""
    instruments: list[Any] = []
    builds: list[tuple[Any, BookIndexBuild]] = []
    locks: dict[Path, EntryLock | None] = {}
    try:
        plans: list[tuple[Any, list[Source], list[Source], BookColumns | None, Path | None]] = []
        for (exchange, symbol), group in by_key.items():
            inst = make_instrument(exchange, symbol)
            # notes, quotes, tickers and liquidations; the book's sources (quotes when no book)
            book_sources = _ordered(prepare(inst, group))
            cols = folder = None
            if book_sources and sum(s.rows for s in book_sources):
                cols = BookColumns.from_tables(
                    [s.table for s in book_sources],
                    full_snapshot_each_message=book_sources[0].kind is Kind.BOOK_SNAPSHOT,
                    label=", ".join(str(s.path) for s in book_sources),
                )
                folder = book_folder(book_sources, cols)
            plans.append((inst, group, book_sources, cols, folder))
        # Locks are taken in one global order (sorted paths), so two processes opening overlapping
        # sets in different orders cannot each hold one and wait for the other's.
        for folder in sorted({f for *_, f in plans if f is not None}):
            locks[folder] = _lock(folder, cancel, progress, folder.name)
        for inst, group, book_sources, cols, folder in plans:
            if cols is not None:
                lock = locks.get(folder) if folder is not None else None
                if lock is None:
                    folder = None  # this process is building it already: index privately
                opened = open_book_index(cols, folder) if folder is not None and folder.exists() else None
                if opened is not None:
                    assert lock is not None
                    lock.release()
                    inst.book = BookReplayer(*opened)
                else:
                    if folder is not None:
                        remove_stale(folder, folder.name.rsplit("-v", 1)[0])
                    target = folder if folder is not None else scratch_dir(inst) / "book"
                    scan = None if progress is None else _scan_report(progress, inst.symbol)
                    build = BookIndexBuild(cols, target, cancel=cancel, progress=scan, lock=lock)
                    builds.append((inst, build))
                    inst.book = BookReplayer(build.events, build.checkpoints())
                inst.index_folder = folder
                starts = [time_span(s) for s in book_sources[1:]]
                inst.file_starts = [sp[0] for sp in starts if sp is not None]
            trade_sources = [s for s in group if s.kind is Kind.TRADES and s.rows]
            if trade_sources:
                inst.trades = make_trades(trade_sources)
                inst.trade_sources = _ordered(trade_sources)
            if inst.has_events:
                instruments.append(inst)
        timeline, job = _timeline(instruments, builds)
    except BaseException:
        for _, build in builds:
            build.discard()
        for held in locks.values():
            if held is not None:
                held.release()
        raise
    return OpenedData(tuple(instruments), timeline, job)


# Longest wait for another process's build before indexing privately (a holder that is itself
# blocked, for example an app whose old session still indexes, must not hang this open forever).
LOCK_WAIT_S = 600.0


def _lock(folder: Path, cancel: CancelFn | None, progress: ProgressFn | None, name: str) -> EntryLock | None:
    """The lock of a book index folder: waits while another process builds it (then maps it)."""

    def waiting() -> None:
        if progress is not None:
            progress(0.0, f"waiting for another process building {name}")

    try:
        return acquire(lock_path_for(folder), cancel=cancel, waiting=waiting, timeout_s=LOCK_WAIT_S)
    except TimeoutError:
        return None  # held too long elsewhere (a stuck process): index privately rather than hang


def _scan_report(progress: ProgressFn, symbol: str) -> Callable[[float], object]:
    """The pre-pass of a book is the first ``SCAN_SHARE`` of its indexing progress."""
    return lambda f: progress(SCAN_SHARE * f, f"scanning {symbol} book")


def _timeline(
    instruments: list[Any], builds: list[tuple[Any, BookIndexBuild]]
) -> tuple[Timeline, IndexJob | None]:
    inputs: list[TimelineInput] = []
    spans: list[tuple[int, int] | None] = []
    building = {id(inst): build for inst, build in builds}
    parts: list[str] = []
    persistent = True
    book_input: dict[int, int] = {}
    for inst in instruments:
        if inst.book is not None:
            book_input[id(inst)] = len(inputs)
            inputs.append(TimelineInput(inst.book.events.group_ts, is_book=True))
            ev = inst.book.events
            build = building.get(id(inst))
            if ev.n_rows == 0:
                spans.append(None)
            elif build is not None:  # not indexed yet: its first row and its latest time
                spans.append((int(ev.local_ts[0]), build.max_ts))
            else:
                spans.append((int(ev.group_ts[0]), int(ev.group_ts[ev.n_groups - 1])))
            persistent = persistent and inst.index_folder is not None
            parts.append(str(inst.index_folder))
        if inst.trades is not None:
            inputs.append(TimelineInput(inst.trades.local_ts, is_book=False))
            n = len(inst.trades)
            spans.append((int(inst.trades.local_ts[0]), int(inst.trades.local_ts[n - 1])) if n else None)
            stems = entry_stems(inst.trade_sources)
            persistent = persistent and stems is not None
            parts.append(json.dumps([stems, [source_key(s) for s in inst.trade_sources]]))
    events = sum(len(i.ts) for i in inputs)
    key: dict[str, Any] = {"inputs": parts, "events": events}
    folder: Path | None = None
    lock = None
    if persistent and instruments:
        folder = cache_dir() / "sets" / _digest("|".join(parts)) / f"timeline-v{INDEX_VERSION}"
        lock = _lock(folder, None, None, folder.name)
        if lock is None:
            folder = None  # being built by this process already
        elif not builds and folder.exists():
            found = open_timeline(folder, key, events)
            if found is not None:
                lock.release()
                return found, None
    if folder is None:
        folder = scratch_dir(instruments[0] if instruments else _NO_INSTRUMENTS) / "timeline"
    else:
        remove_stale(folder, "timeline-")  # other versions, leftovers of a killed build
    tl_build = TimelineBuild(inputs, folder, spans=spans, lock=lock)
    job = IndexJob(builds, tl_build, key, [book_input[id(inst)] for inst, _ in builds])
    if not builds:
        job.step()  # the timeline alone: merge it now
        return tl_build.timeline, None
    return tl_build.timeline, job


class _Owner:
    """Owns the scratch folder of an empty timeline (removed at exit)."""


_NO_INSTRUMENTS = _Owner()


def trade_column(sources: Sequence[Source], name: str, dtype: Any) -> ChunkedColumn:
    return ChunkedColumn([c for s in sources for c in s.table.column(name).chunks], dtype)


def warm_up() -> None:
    """Load the compiled CSV parsers, index, book and merge code from numba's disk cache (see
    ``indexer``)."""
    from replayterm.core.book.indexer import warm_up as warm_book
    from replayterm.core.data.fast_parse import warm_up as warm_parsers
    from replayterm.core.replay.timeline import _merge_runs

    warm_parsers()
    warm_book()
    _merge_runs(np.array([1, 2, 1], dtype=np.int64), np.array([0, 2, 3], dtype=np.int64))
