"""Out-of-core index of one symbol's book, built chunk by chunk over the mapped cache.

What ``BookEvents.from_arrays`` and ``build_checkpoints`` do in memory, done in steps that each
read one chunk of rows and write their results into preallocated arrays of an ``ArrayStore``
(``.npy`` files mapped from the cache folder), so nothing sized by the file stays in anonymous
memory and a partially built index is already usable:

1. ``BookIndexBuild(...)`` runs a pre-pass over the chunks: validates the rows, collects the
   sorted unique prices (the grid, small) and counts message groups, so every output array is
   allocated once at its final size.
2. Each ``step`` takes the next chunk(s): price ranks packed with the side (``key``), the amounts
   (contiguous kernel input), message groups with their snapshot resets (a compiled loop that
   carries the open group across chunk edges), then replays the groups completed so far through
   the book kernel, recording the top of book after each message and saving a checkpoint every
   ``CHECKPOINT_ROWS`` rows. The spacing is fixed, so a seek costs the same in any file size.
3. ``commit`` writes the checkpoints and the manifest and renames the folder into place.

``ready`` says how many groups are replayable; ``events`` and ``checkpoints()`` can be used for
those while the build goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba as nb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from replayterm.core.book import kernel as k
from replayterm.core.book.book import Book
from replayterm.core.book.checkpoints import Checkpoints
from replayterm.core.book.columns import ChunkedColumn
from replayterm.core.book.events import BookEvents, IndexReady, _check_rows
from replayterm.core.store.arrays import ArrayStore, open_index
from replayterm.core.store.locks import EntryLock

CHECKPOINT_ROWS = 1 << 17
STEP_ROWS = 1 << 21  # rows per ``step`` by default (~20-40 ms of work)
_FOLD_VALUES = 1 << 18  # distinct prices of recent chunks kept before folding them into the grid

# Carry state of the grouping loop (int64 array).
_HAVE = 0
_PREV_TS = 1
_PREV_SNAP = 2
_CUR_START = 3
_CUR_SNAP = 4
_FIRST_ROW = 5
_FIRST_GROUP = 6
_RUN_MAX = 7
_BACK = 8
_N = 9
_CARRY = 10


@nb.njit(cache=True)
def _emit(c: np.ndarray, end: int, full_each: bool, groups: np.ndarray, gts: np.ndarray) -> None:
    g = c[_N]
    start = c[_CUR_START]
    if c[_FIRST_ROW] < 0:
        apply = end
        reset = False
    elif full_each:
        reset = True
        apply = c[_FIRST_ROW] if g == c[_FIRST_GROUP] else start
    elif c[_CUR_SNAP] >= 0:
        reset = True
        apply = c[_CUR_SNAP]
    else:
        reset = False
        apply = start
    groups[0, g] = start
    groups[1, g] = ~apply if reset else apply
    gts[g] = c[_RUN_MAX]
    c[_N] = g + 1


@nb.njit(cache=True)
def _group_rows(
    local_ts: np.ndarray,
    is_snap: np.ndarray,
    row0: int,
    full_each: bool,
    c: np.ndarray,
    groups: np.ndarray,
    gts: np.ndarray,
) -> None:
    """Split rows into message groups (runs of equal ``local_ts``) and mark snapshot resets,
    carrying the open group in ``c`` from one chunk to the next (same rules as ``events``)."""
    for i in range(local_ts.shape[0]):
        r = row0 + i
        t = local_ts[i]
        if c[_HAVE] == 0 or t != c[_PREV_TS]:
            if c[_HAVE] != 0:
                if t < c[_PREV_TS]:
                    c[_BACK] += 1
                _emit(c, r, full_each, groups, gts)
                if t > c[_RUN_MAX]:
                    c[_RUN_MAX] = t
            else:
                c[_RUN_MAX] = t
            c[_CUR_START] = r
            c[_CUR_SNAP] = -1
        s = is_snap[i]
        if s and (c[_HAVE] == 0 or c[_PREV_SNAP] == 0):
            c[_CUR_SNAP] = r
            if c[_FIRST_ROW] < 0:
                c[_FIRST_ROW] = r
                c[_FIRST_GROUP] = c[_N]
        c[_PREV_SNAP] = 1 if s else 0
        c[_PREV_TS] = t
        c[_HAVE] = 1


@dataclass(frozen=True)
class BookColumns:
    """One symbol's book rows (several files joined in time order), read chunk by chunk."""

    local_ts: ChunkedColumn
    exch_ts: ChunkedColumn
    side: ChunkedColumn
    price: ChunkedColumn
    amount: ChunkedColumn
    is_snapshot: ChunkedColumn
    price_chunks: Sequence[pa.Array]  # the same rows as Arrow chunks (hash passes run on these)
    full_snapshot_each_message: bool
    label: str

    @classmethod
    def from_tables(
        cls, tables: Sequence[pa.Table], *, full_snapshot_each_message: bool, label: str
    ) -> BookColumns:
        def col(name: str, dtype: Any) -> ChunkedColumn:
            return ChunkedColumn([c for t in tables for c in t.column(name).chunks], dtype)

        return cls(
            local_ts=col("local_ts", np.int64),
            exch_ts=col("exch_ts", np.int64),
            side=col("side", np.int8),
            price=col("price", np.float64),
            amount=col("amount", np.float64),
            is_snapshot=col("is_snapshot", np.bool_),
            price_chunks=[c for t in tables for c in t.column("price").chunks if len(c)],
            full_snapshot_each_message=full_snapshot_each_message,
            label=label,
        )

    @property
    def n_rows(self) -> int:
        return len(self.local_ts)

    def key(self) -> dict[str, Any]:
        """What identifies these rows for a stored index (checked when the index is opened)."""
        n = self.n_rows
        return {
            "label": self.label,
            "rows": n,
            "chunks": self.local_ts.n_chunks,
            "first_ts": int(self.local_ts[0]) if n else 0,
            "last_ts": int(self.local_ts[n - 1]) if n else 0,
            "full_each": self.full_snapshot_each_message,
        }


class BookIndexBuild:
    """A book index being built (see the module docstring)."""

    def __init__(
        self,
        cols: BookColumns,
        folder: Path | None,
        *,
        checkpoint_rows: int | None = None,
        cancel: Any = None,
        progress: Any = None,
        lock: EntryLock | None = None,
    ) -> None:
        """``cancel()`` and ``progress(fraction)`` are called per chunk of the pre-pass; ``lock`` is
        the held lock of ``folder``, released when the build is committed or discarded."""
        self.cols = cols
        self.interval = max(1, int(CHECKPOINT_ROWS if checkpoint_rows is None else checkpoint_rows))
        self.store = ArrayStore(folder, lock)
        try:
            self._prepass(cancel, progress)
            self._allocate()
        except BaseException:
            self.store.discard()
            raise

    # -- pre-pass ---------------------------------------------------------------------------

    def _prepass(self, cancel: Any, progress: Any) -> None:
        cols = self.cols
        # Sorted distinct prices so far, plus the distinct prices of the chunks read since the
        # last fold: folded whenever those reach ``_FOLD_VALUES`` values, so memory follows the
        # number of distinct prices, not the number of chunks (the file's length).
        prices = np.empty(0, dtype=np.float64)
        pending: list[np.ndarray] = []
        n_pending = 0
        n_groups = 0
        last_ts: int | None = None
        max_ts = np.iinfo(np.int64).min
        side_chunks = list(cols.side.iter_chunks())
        amount_chunks = list(cols.amount.iter_chunks())
        n_chunks = max(cols.local_ts.n_chunks, 1)
        for i, (row0, ts) in enumerate(cols.local_ts.iter_chunks()):
            if progress is not None and i % 16 == 0:
                progress(i / n_chunks)
            if cancel is not None and cancel():
                from replayterm.core.data.progress import Cancelled

                raise Cancelled("index build cancelled")
            price = cols.price.chunk(i)
            _check_rows(_Offset(cols.label, row0), side_chunks[i][1], price, amount_chunks[i][1])
            found = pc.unique(cols.price_chunks[i]).to_numpy()
            pending.append(found)
            n_pending += found.shape[0]
            if n_pending >= _FOLD_VALUES:
                prices = np.unique(np.concatenate([prices, *pending]))
                pending, n_pending = [], 0
            n_groups += int(np.count_nonzero(ts[1:] != ts[:-1])) + int(last_ts is None or ts[0] != last_ts)
            last_ts = int(ts[-1])
            max_ts = max(max_ts, int(ts.max()))
        self.prices = np.unique(np.concatenate([prices, *pending])) if pending else prices
        if self.prices.shape[0] > np.iinfo(np.int32).max:
            raise ValueError("more than 2**31 distinct prices")
        self.n_groups = n_groups
        self.max_ts = max_ts if cols.n_rows else 0

    def _allocate(self) -> None:
        n, g = self.cols.n_rows, self.n_groups
        st = self.store
        self.key = st.create("key", np.int32, (n,))
        self.amount = st.create("amount", np.float64, (n,))
        self.groups = st.create("groups", np.int64, (2, g + 1))
        self.group_ts = st.create("group_ts", np.int64, (g,))
        self.best_idx = st.create("best_idx", np.int32, (g, 2))
        self.best_amt = st.create("best_amt", np.float64, (g, 2))
        st.create("prices", np.float64, self.prices.shape)[:] = self.prices
        self._crossed = st.appender("crossed_groups", np.int64)
        self._resets = st.appender("reset_groups", np.int64)
        self._carry = np.zeros(_CARRY, dtype=np.int64)
        self._carry[_FIRST_ROW] = -1
        self._carry[_FIRST_GROUP] = -1
        self._chunk = 0  # next chunk to read
        self._resets_through = 0
        self._rows_done = 0
        self._book = Book(self.prices)
        # Checkpoints: the levels go to disk as they are saved; only a few numbers per checkpoint
        # (position, level counts, scalar state) stay in memory until the commit.
        self._cp_levels = {
            name: st.appender(name, dtype)
            for name, dtype in (
                ("cp_bid_idx", np.int32),
                ("cp_bid_amt", np.float64),
                ("cp_ask_idx", np.int32),
                ("cp_ask_amt", np.float64),
            )
        }
        self._cp_position: list[int] = []
        self._cp_bid_n: list[int] = []
        self._cp_ask_n: list[int] = []
        self._cp_states: list[np.ndarray] = []
        self._target = self.interval
        self._packed: Checkpoints | None = None
        self.ready = IndexReady(0, False)
        self._kargs = (
            np.asarray(self.groups),
            np.asarray(self.key),
            np.asarray(self.amount),
            self._book.amounts,
            self._book.st,
        )
        self._best_flat = np.asarray(self.best_idx).reshape(-1)
        self._best_amt_flat = np.asarray(self.best_amt).reshape(-1)
        self.events = BookEvents(
            local_ts=self.cols.local_ts,
            exch_ts=self.cols.exch_ts,
            side=self.cols.side,
            price=self.cols.price,
            amount=np.asarray(self.amount),
            is_snapshot=self.cols.is_snapshot,
            prices=self.prices,
            key=np.asarray(self.key),
            groups=np.asarray(self.groups),
            group_ts=np.asarray(self.group_ts),
            first_snapshot_row=n,
            first_snapshot_group=self.n_groups,
            full_snapshot_each_message=self.cols.full_snapshot_each_message,
            ts_backwards=0,
            ready=self.ready,
            reset_list=np.empty(0, dtype=np.int64),
        )

    # -- steps ------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.ready.done

    @property
    def fraction(self) -> float:
        n = self.cols.n_rows
        return 1.0 if n == 0 or self.ready.done else self._rows_done / n

    def step(self, max_rows: int | None = None) -> bool:
        """Index the next chunk(s), about ``max_rows`` rows; True once everything is indexed."""
        max_rows = STEP_ROWS if max_rows is None else max_rows
        if self.ready.done:
            return True
        cols = self.cols
        taken = 0
        while self._chunk < cols.local_ts.n_chunks and (taken == 0 or taken < max_rows):
            self._index_chunk(self._chunk)
            taken += len(cols.local_ts.chunk(self._chunk))
            self._chunk += 1
        last = self._chunk >= cols.local_ts.n_chunks
        c = self._carry
        if last and c[_HAVE] and c[_N] < self.n_groups:
            _emit(c, cols.n_rows, cols.full_snapshot_each_message, self._kargs[0], np.asarray(self.group_ts))
        complete = int(c[_N])
        self._record_resets(complete)
        self._kargs[0][0, complete] = cols.n_rows if last else int(c[_CUR_START])
        self._replay(complete, last)
        if last:
            self.ready.groups = self.n_groups
        return last

    def _record_resets(self, complete: int) -> None:
        """Keep the (few) groups that clear the book, so gaps need no pass over all groups."""
        done = self._resets_through
        if complete > done and not self.cols.full_snapshot_each_message:
            found = np.flatnonzero(self._kargs[0][1, done:complete] < 0) + done
            if found.size:
                self._resets.append(found)
                object.__setattr__(self.events, "reset_list", self._resets.mapped())
        self._resets_through = complete

    def _index_chunk(self, i: int) -> None:
        cols = self.cols
        lo = int(cols.local_ts.offsets[i])
        ts = cols.local_ts.chunk(i)
        hi = lo + ts.shape[0]
        encoded = pc.dictionary_encode(cols.price_chunks[i])
        ranks = np.searchsorted(self.prices, encoded.dictionary.to_numpy()).astype(np.int32)
        key = ranks[encoded.indices.to_numpy()]
        np.invert(key, out=key, where=cols.side.chunk(i) < 0)
        self.key[lo:hi] = key
        self.amount[lo:hi] = cols.amount.chunk(i)
        _group_rows(
            ts,
            cols.is_snapshot.chunk(i),
            lo,
            cols.full_snapshot_each_message,
            self._carry,
            self._kargs[0],
            np.asarray(self.group_ts),
        )
        self._rows_done = hi

    def _replay(self, complete: int, last: bool) -> None:
        """Replay groups ``[position, complete)``, saving a checkpoint at every row target."""
        book = self._book
        start = self._kargs[0][0]  # a plain view: numpy's functions wrap memmap subclasses slowly
        n_rows = self.cols.n_rows
        while True:
            g0 = book.position
            target = self._target
            g_end = (
                int(np.searchsorted(start[: complete + 1], target, side="left"))
                if target < n_rows
                else complete + 1
            )
            reached = g_end <= complete
            g_end = min(g_end, complete)
            if g_end > g0:
                log = np.empty(g_end - g0, dtype=np.int64)
                n_log = k.apply_groups_logged(*self._kargs, g_end, log, self._best_flat, self._best_amt_flat)
                if n_log:
                    self._crossed.append(log[:n_log])
                    self._packed = None  # repacked only when something was added
            if not reached or target >= n_rows:
                break
            if g_end < self.n_groups and (not self._cp_position or self._cp_position[-1] < g_end):
                self._save()
            self._target += self.interval
        self.ready.groups = book.position
        c = self._carry
        if c[_FIRST_ROW] >= 0:
            object.__setattr__(self.events, "first_snapshot_row", int(c[_FIRST_ROW]))
            object.__setattr__(self.events, "first_snapshot_group", int(c[_FIRST_GROUP]))
        elif last:
            object.__setattr__(self.events, "first_snapshot_row", n_rows)
            object.__setattr__(self.events, "first_snapshot_group", self.n_groups)
        object.__setattr__(self.events, "ts_backwards", int(c[_BACK]))

    def _save(self) -> None:
        book = self._book
        st = book.st
        bid = k.extract_side(book.bid, st[k.BID_LO], st[k.BID_HI], st[k.N_BID])
        ask = k.extract_side(book.ask, st[k.ASK_LO], st[k.ASK_HI], st[k.N_ASK])
        lv = self._cp_levels
        lv["cp_bid_idx"].append(bid[0])
        lv["cp_bid_amt"].append(bid[1])
        lv["cp_ask_idx"].append(ask[0])
        lv["cp_ask_amt"].append(ask[1])
        self._cp_position.append(book.position)
        self._cp_bid_n.append(int(bid[0].shape[0]))
        self._cp_ask_n.append(int(ask[0].shape[0]))
        self._cp_states.append(st.copy())
        self._packed = None

    def _cp_small(self) -> dict[str, np.ndarray]:
        def offsets(counts: list[int]) -> np.ndarray:
            off = np.zeros(len(counts) + 1, dtype=np.int64)
            np.cumsum(counts, out=off[1:])
            return off

        states = np.stack(self._cp_states) if self._cp_states else np.empty((0, k.STATE_SIZE), dtype=np.int64)
        return {
            "cp_position": np.array(self._cp_position, dtype=np.int64),
            "cp_bid_off": offsets(self._cp_bid_n),
            "cp_ask_off": offsets(self._cp_ask_n),
            "cp_states": states,
        }

    # -- results ----------------------------------------------------------------------------

    def checkpoints(self) -> Checkpoints:
        """The checkpoints saved so far (plus the top-of-book history of the ready groups)."""
        if self._packed is None:
            a = self._cp_small()
            for name, app in self._cp_levels.items():
                a[name] = app.mapped()
            a["crossed_groups"] = self._crossed.mapped()
            a["best_idx"], a["best_amt"] = self.best_idx, self.best_amt
            self._packed = _from_arrays(a, self.interval)
        return self._packed

    def commit(self) -> tuple[BookEvents, Checkpoints]:
        """Store the checkpoints and make the index visible (call once ``step`` returned True)."""
        assert self.ready.done or self.step(self.cols.n_rows + 1)
        arrays: dict[str, np.ndarray] = {}
        for name, arr in self._cp_small().items():
            out = self.store.create(name, arr.dtype, arr.shape)
            out[...] = arr
            arrays[name] = out
        ev = self.events
        meta = {
            "first_snapshot_row": ev.first_snapshot_row,
            "first_snapshot_group": ev.first_snapshot_group,
            "ts_backwards": ev.ts_backwards,
            "interval_rows": self.interval,
        }
        stored = self.store.commit(self.cols.key(), meta)
        self.ready.done = True
        object.__setattr__(ev, "ready", None)
        object.__setattr__(ev, "reset_list", np.asarray(stored["reset_groups"]))
        cps = _from_arrays(stored, self.interval)
        self._packed = cps
        return ev, cps

    def discard(self) -> None:
        self.store.discard()


class _Offset(str):
    """A source label for error messages of a chunk that starts at row ``row0``."""

    def __new__(cls, label: str, row0: int) -> _Offset:
        text = label if row0 == 0 else f"{label} (rows from {row0})"
        return super().__new__(cls, text)


def _from_arrays(a: dict[str, np.ndarray], interval: int) -> Checkpoints:
    cps = Checkpoints(
        position=np.asarray(a["cp_position"]),
        bid_off=np.asarray(a["cp_bid_off"]),
        bid_idx=np.asarray(a["cp_bid_idx"]),
        bid_amt=np.asarray(a["cp_bid_amt"]),
        ask_off=np.asarray(a["cp_ask_off"]),
        ask_idx=np.asarray(a["cp_ask_idx"]),
        ask_amt=np.asarray(a["cp_ask_amt"]),
        states=np.asarray(a["cp_states"]),
        interval_rows=interval,
        budget_bytes=0,
        crossed_groups=np.asarray(a["crossed_groups"]),
        best_idx=np.asarray(a["best_idx"]),
        best_amt=np.asarray(a["best_amt"]),
    )
    object.__setattr__(cps, "budget_bytes", cps.nbytes)
    return cps


def open_book_index(cols: BookColumns, folder: Path) -> tuple[BookEvents, Checkpoints] | None:
    """A committed index of ``cols`` in ``folder``, mapped, or None when it must be (re)built."""
    found = open_index(folder, cols.key())
    if found is None:
        return None
    a, meta = found
    try:
        n = cols.n_rows
        groups = np.asarray(a["groups"])
        g = groups.shape[1] - 1
        ok = (
            a["key"].shape == (n,)
            and a["amount"].shape == (n,)
            and groups.shape[0] == 2
            and int(groups[0, 0]) == 0
            and int(groups[0, g]) == n
            and a["group_ts"].shape == (g,)
            and a["best_idx"].shape == (g, 2)
            and (g == 0 or int(a["group_ts"][0]) <= int(a["group_ts"][g - 1]))
            and int(a["cp_bid_off"][-1]) == a["cp_bid_idx"].shape[0]
            and int(a["cp_ask_off"][-1]) == a["cp_ask_idx"].shape[0]
            and (a["cp_position"].shape[0] == 0 or 0 < int(a["cp_position"][-1]) <= g)
        )
        if not ok:
            raise ValueError("inconsistent index")
        events = BookEvents(
            local_ts=cols.local_ts,
            exch_ts=cols.exch_ts,
            side=cols.side,
            price=cols.price,
            amount=np.asarray(a["amount"]),
            is_snapshot=cols.is_snapshot,
            prices=np.array(a["prices"]),
            key=np.asarray(a["key"]),
            groups=groups,
            group_ts=np.asarray(a["group_ts"]),
            first_snapshot_row=int(meta["first_snapshot_row"]),
            first_snapshot_group=int(meta["first_snapshot_group"]),
            full_snapshot_each_message=cols.full_snapshot_each_message,
            ts_backwards=int(meta["ts_backwards"]),
            reset_list=np.asarray(a["reset_groups"]),
        )
        return events, _from_arrays(a, int(meta["interval_rows"]))
    except (ValueError, KeyError, TypeError, IndexError, OSError):
        return None  # rebuilt under the lock; the commit replaces the folder


def warm_up() -> None:
    """Load every compiled entry point from numba's disk cache with tiny inputs of the real types.

    Loading costs about a second per process; the app does it when its replay thread starts, so
    the user's first open or seek does not pay it.
    """
    ts = np.array([1, 1, 2], dtype=np.int64)
    ts.setflags(write=False)  # chunks of the mapped cache are read-only
    snap = np.array([True, True, False])
    c = np.zeros(_CARRY, dtype=np.int64)
    c[_FIRST_ROW] = c[_FIRST_GROUP] = -1
    groups = np.zeros((2, 3), dtype=np.int64)
    gts = np.zeros(2, dtype=np.int64)
    _group_rows(ts, snap, 0, False, c, groups, gts)
    _emit(c, 3, False, groups, gts)
    groups[0, 2] = 3
    book = Book(np.array([1.0, 2.0]))
    key = np.array([0, ~1, 0], dtype=np.int32)
    amount = np.array([1.0, 1.0, 0.0])
    best = np.zeros(4, dtype=np.int32)
    best_amt = np.zeros(4, dtype=np.float64)
    k.apply_groups_logged(
        groups, key, amount, book.amounts, book.st, 1, np.empty(2, np.int64), best, best_amt
    )
    k.step_group(groups, key, amount, book.amounts, book.st)
    k.apply_groups(groups, key, amount, book.amounts, book.st, 2)
    st = book.st
    bid = k.extract_side(book.bid, st[k.BID_LO], st[k.BID_HI], st[k.N_BID])
    ask = k.extract_side(book.ask, st[k.ASK_LO], st[k.ASK_HI], st[k.N_ASK])
    k.restore_state(book.amounts, st, bid[0], bid[1], ask[0], ask[1], st.copy())
    book.levels(1, 200)
    book.levels(-1, 200)
    book.top_stats(5)
    book.depth(1, 5)
    book.depth_bps(1, 10.0)
    book.fill_price(-1, 1.0)
