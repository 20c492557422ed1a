"""Unbounded append-only numpy columns (amortised doubling) for a strategy's streams in the GUI.

A strategy's history is small next to the market data (a fill or an account sample at most every
few events), so nothing is dropped; views draw only the visible slice.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

_MIN_CAPACITY = 256


class GrowingColumns:
    def __init__(self, dtypes: Mapping[str, np.dtype | type]) -> None:
        self._dtypes = {name: np.dtype(dt) for name, dt in dtypes.items()}
        self._data = {name: np.empty(_MIN_CAPACITY, dtype=dt) for name, dt in self._dtypes.items()}
        self._n = 0
        self.stamp = 0  # changes with every change of the rows: a view can skip redrawing

    def __len__(self) -> int:
        return self._n

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._dtypes)

    def clear(self) -> None:
        self._n = 0
        self.stamp += 1

    def append(self, **columns: np.ndarray) -> None:
        if set(columns) != set(self._data):
            raise KeyError(f"append needs exactly the columns {sorted(self._data)}")
        k = len(next(iter(columns.values())))
        if k == 0:
            return
        need = self._n + k
        cap = next(iter(self._data.values())).shape[0]
        if need > cap:
            while cap < need:
                cap *= 2
            for name, arr in self._data.items():
                grown = np.empty(cap, dtype=arr.dtype)
                grown[: self._n] = arr[: self._n]
                self._data[name] = grown
        for name, arr in self._data.items():
            arr[self._n : need] = columns[name]
        self._n = need
        self.stamp += 1

    def column(self, name: str) -> np.ndarray:
        """A view of the rows so far (valid until the next append or clear)."""
        return self._data[name][: self._n]

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the rows where ``mask`` is True (order preserved)."""
        kept = int(np.count_nonzero(mask))
        for arr in self._data.values():
            arr[:kept] = arr[: self._n][mask]
        self._n = kept
        self.stamp += 1

    def drop_front(self, k: int) -> None:
        """Forget the oldest ``k`` rows."""
        k = min(max(int(k), 0), self._n)
        if k == 0:
            return
        for arr in self._data.values():
            arr[: self._n - k] = arr[k : self._n]
        self._n -= k
        self.stamp += 1
