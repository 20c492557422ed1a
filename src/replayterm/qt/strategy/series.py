"""Per-strategy time series kept by the GUI: growing numpy columns keyed by strategy id, plus
the rule deciding where a ``ctx.plot`` series is drawn (over the price, or on its own axis)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from replayterm.qt.strategy.buffers import GrowingColumns

PRICE_BAND = 0.02  # a series whose median is within 2 % of the mid is a price level


class SeriesSet:
    """``(strategy id, key)`` → GrowingColumns with fixed column dtypes."""

    def __init__(self, dtypes: dict[str, Any]) -> None:
        self._dtypes = dtypes
        self._data: dict[tuple[int, str], GrowingColumns] = {}

    def get(self, sid: int, key: str = "") -> GrowingColumns:
        cols = self._data.get((sid, key))
        if cols is None:
            cols = self._data[(sid, key)] = GrowingColumns(self._dtypes)
        return cols

    def find(self, sid: int, key: str = "") -> GrowingColumns | None:
        return self._data.get((sid, key))

    def keys(self, sid: int | None = None) -> list[tuple[int, str]]:
        return [k for k in self._data if sid is None or k[0] == sid]

    def clear_strategy(self, sid: int) -> None:
        for key in self.keys(sid):
            self._data[key].clear()

    def drop_strategy(self, sid: int) -> list[tuple[int, str]]:
        gone = self.keys(sid)
        for key in gone:
            del self._data[key]
        return gone


class PlotRouter:
    """Decides once per (strategy, series) whether its values are prices (drawn on the price
    chart) or something else (drawn on the strategy chart's indicator axis)."""

    def __init__(self) -> None:
        self._price: dict[tuple[int, str], bool] = {}

    def is_price(self, sid: int, name: str, values: np.ndarray, mid: float) -> bool:
        key = (sid, name)
        known = self._price.get(key)
        if known is not None:
            return known
        finite = values[np.isfinite(values)]
        if finite.size == 0 or not (math.isfinite(mid) and mid != 0):
            return False  # undecided: ask again with the next points
        decided = bool(abs(float(np.median(finite)) - mid) <= PRICE_BAND * abs(mid))
        self._price[key] = decided
        return decided

    def decided(self, sid: int, name: str) -> bool | None:
        return self._price.get((sid, name))

    def forget(self, sid: int) -> None:
        for key in [k for k in self._price if k[0] == sid]:
            del self._price[key]


class StrategyData:
    """What the charts draw, per strategy: account samples, fills, signals and plotted series.

    Fed once per frame, before the charts redraw; a ``reset`` strategy frame replaces that
    strategy's history. ``version`` grows with every change, so a chart can skip a redraw.
    """

    def __init__(self) -> None:
        self.equity = SeriesSet({"ts": np.int64, "net": np.float64, "position": np.float64})
        self.fills = SeriesSet({"ts": np.int64, "price": np.float64, "side": np.int8})
        self.signals = SeriesSet({"ts": np.int64, "price": np.float64, "strength": np.float64})
        self.plots = SeriesSet({"ts": np.int64, "value": np.float64})
        self.router = PlotRouter()
        self.version = 0

    def apply_frame(self, frame: Any, known: Any) -> None:
        mid = float(frame.stats.mid)
        for sf in frame.strategies:
            sid = sf.info.handle.id
            if not known(sid):
                continue
            if sf.reset:
                for s in (self.equity, self.fills, self.signals, self.plots):
                    s.clear_strategy(sid)
                self.version += 1
            e, f, g = sf.equity, sf.fills, sf.signals
            if len(e):
                self.equity.get(sid).append(ts=e["ts"], net=e["net"], position=e["position"])
            if len(f):
                self.fills.get(sid).append(ts=f["ts"], price=f["price"], side=f["side"])
            if len(g):
                self.signals.get(sid).append(ts=g["ts"], price=g["price"], strength=g["strength"])
            for name, chunk in sf.plots.items():
                if len(chunk):
                    cols = self.plots.get(sid, name)
                    cols.append(ts=chunk["ts"], value=chunk["value"])
                    self.router.is_price(sid, name, cols.column("value"), mid)
            if len(e) or len(f) or len(g) or any(len(c) for c in sf.plots.values()):
                self.version += 1

    def drop(self, sid: int) -> None:
        for s in (self.equity, self.fills, self.signals, self.plots):
            s.drop_strategy(sid)
        self.router.forget(sid)
        self.version += 1

    def plot_names(self, sid: int) -> list[str]:
        return [name for s, name in self.plots.keys(sid) if s == sid]
