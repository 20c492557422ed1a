"""``ChunkedColumn``: one column of a memory-mapped Arrow table, read chunk by chunk.

The cache holds a file as many record batches, so each column is a list of chunks that live in
the mapped file. Joining them (``np.concatenate`` / ``ChunkedArray.to_numpy``) would copy every
row into anonymous memory; this class keeps the chunks where they are and reads only what is
asked: one value, a short slice, a gather of a few indices, or one chunk at a time for a pass.
Boolean chunks are bit-packed in Arrow, so they are converted when read (one chunk at a time).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa


class ChunkedColumn:
    """Read-only, row-indexable view over Arrow chunks (or numpy arrays) of one fixed-width type."""

    def __init__(self, chunks: Sequence[pa.Array | np.ndarray] | pa.ChunkedArray, dtype: Any) -> None:
        parts = list(chunks.chunks) if isinstance(chunks, pa.ChunkedArray) else list(chunks)
        self.dtype = np.dtype(dtype)
        self._arrow = [p for p in parts if len(p)]
        # Fixed-width chunks without nulls become zero-copy numpy views of the mapped buffers.
        self._views: list[np.ndarray | None] = [
            None if self.dtype == np.bool_ else _to_numpy(p, self.dtype) for p in self._arrow
        ]
        sizes = [len(p) for p in self._arrow]
        self.offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=self.offsets[1:])
        self._firsts: np.ndarray | None = None

    # -- shape ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.offsets[-1])

    @property
    def shape(self) -> tuple[int]:
        return (len(self),)

    @property
    def nbytes(self) -> int:
        return len(self) * self.dtype.itemsize

    @property
    def n_chunks(self) -> int:
        return len(self._arrow)

    # -- chunks -----------------------------------------------------------------------------

    def chunk(self, i: int) -> np.ndarray:
        view = self._views[i]
        return view if view is not None else _to_numpy(self._arrow[i], self.dtype)

    def iter_chunks(self, start: int = 0) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, rows) of each chunk from the one holding ``start`` on (first one trimmed)."""
        if start >= len(self):
            return
        c = self._chunk_of(start)
        for i in range(c, self.n_chunks):
            data = self.chunk(i)
            lo = int(self.offsets[i])
            if start > lo:
                yield start, data[start - lo :]
            else:
                yield lo, data

    def _chunk_of(self, row: int) -> int:
        return int(np.searchsorted(self.offsets, row, side="right")) - 1

    # -- reads ------------------------------------------------------------------------------

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (int, np.integer)):
            row = int(index)
            n = len(self)
            if row < 0:
                row += n
            if not 0 <= row < n:
                raise IndexError(f"row {index} out of range for {n} rows")
            c = self._chunk_of(row)
            return self.chunk(c)[row - int(self.offsets[c])]
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return self[np.arange(start, stop, step, dtype=np.int64)]
            return self.slice(start, stop)
        rows = np.asarray(index)
        if rows.dtype == np.bool_:
            rows = np.flatnonzero(rows)
        return self.take(rows.astype(np.int64, copy=False))

    def slice(self, start: int, stop: int) -> np.ndarray:
        """Rows ``[start, stop)`` as one array (a view when they lie in one chunk)."""
        if stop <= start:
            return np.empty(0, dtype=self.dtype)
        c0, c1 = self._chunk_of(start), self._chunk_of(stop - 1)
        if c0 == c1:
            lo = int(self.offsets[c0])
            return self.chunk(c0)[start - lo : stop - lo]
        parts = []
        for c in range(c0, c1 + 1):
            lo = int(self.offsets[c])
            parts.append(self.chunk(c)[max(start - lo, 0) : stop - lo])
        return np.concatenate(parts)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """Gather ``rows`` (any order); memory is that of the result only."""
        n = len(self)
        rows = np.where(rows < 0, rows + n, rows)
        if rows.size and (int(rows.min()) < 0 or int(rows.max()) >= n):
            raise IndexError(f"row index out of range for {n} rows")
        out = np.empty(rows.shape, dtype=self.dtype)
        which = np.searchsorted(self.offsets, rows, side="right") - 1
        for c in np.unique(which):
            sel = which == c
            out[sel] = self.chunk(int(c))[rows[sel] - self.offsets[c]]
        return out

    def searchsorted(self, value: int | float, side: str = "left") -> int:
        """``np.searchsorted`` for a column sorted ascending across its chunks."""
        if len(self) == 0:
            return 0
        if self._firsts is None:
            self._firsts = np.array([self.chunk(i)[0] for i in range(self.n_chunks)])
        firsts = self._firsts
        # The chunk that can hold the answer: the last whose first value is below (or at) ``value``.
        c = int(np.searchsorted(firsts, value, side=side)) - 1  # type: ignore[call-overload]
        if c < 0:
            return 0
        return int(self.offsets[c]) + int(np.searchsorted(self.chunk(c), value, side=side))  # type: ignore[call-overload]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """The whole column in memory: only for small columns (tests, short files)."""
        whole = (
            np.concatenate([self.chunk(i) for i in range(self.n_chunks)])
            if self.n_chunks
            else np.empty(0, dtype=self.dtype)
        )
        return whole if dtype is None else whole.astype(dtype, copy=False)

    def sample(self, limit: int) -> np.ndarray:
        """At most ``limit`` rows spread evenly over the column (for statistics)."""
        n = len(self)
        if n <= limit:
            return np.asarray(self)
        return self.take(np.linspace(0, n - 1, limit).astype(np.int64))


def _to_numpy(arr: pa.Array | np.ndarray, dtype: np.dtype) -> np.ndarray:
    if isinstance(arr, np.ndarray):
        return arr.astype(dtype, copy=False)
    out = arr.to_numpy(zero_copy_only=False)
    return out.astype(dtype, copy=False)


def column_of(tables: Sequence[pa.Table], name: str, dtype: Any) -> ChunkedColumn:
    """Column ``name`` of several tables, joined in the given order without copying."""
    chunks: list[pa.Array] = []
    for t in tables:
        chunks.extend(t.column(name).chunks)
    return ChunkedColumn(chunks, dtype)
