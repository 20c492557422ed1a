"""Bounded append-only columnar buffer for plot data.

Columns live in preallocated arrays of twice the capacity; appends write at the end and, when the
end is reached, the newest ``capacity`` rows slide to the front (amortised O(1) per row). The live
rows are therefore always one contiguous slice: views hand them to pyqtgraph without copying or
unrolling a ring.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


class ColumnBuffer:
    def __init__(self, capacity: int, dtypes: Mapping[str, np.dtype | type]) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = int(capacity)
        self._data = {name: np.empty(2 * self.capacity, dtype=dt) for name, dt in dtypes.items()}
        self._start = 0
        self._end = 0

    def __len__(self) -> int:
        return self._end - self._start

    def clear(self) -> None:
        self._start = self._end = 0

    def append(self, **columns: np.ndarray) -> None:
        if set(columns) != set(self._data):
            raise KeyError(f"append needs exactly the columns {sorted(self._data)}")
        n = len(next(iter(columns.values())))
        if n == 0:
            return
        if n >= self.capacity:  # more than fits: keep the newest rows only
            for name, arr in self._data.items():
                arr[: self.capacity] = columns[name][-self.capacity :]
            self._start, self._end = 0, self.capacity
            return
        if self._end + n > 2 * self.capacity:
            keep = min(len(self), self.capacity - n)
            for arr in self._data.values():
                arr[:keep] = arr[self._end - keep : self._end]
            self._start, self._end = 0, keep
        for name, arr in self._data.items():
            arr[self._end : self._end + n] = columns[name]
        self._end += n
        if len(self) > self.capacity:
            self._start = self._end - self.capacity

    def column(self, name: str) -> np.ndarray:
        """A view on the live rows (oldest first). Valid until the next append/clear."""
        return self._data[name][self._start : self._end]

    def last(self, name: str) -> float | int | None:
        if not len(self):
            return None
        return self._data[name][self._end - 1].item()
