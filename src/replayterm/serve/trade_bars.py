"""Trade bars (``trade_bar_{n}{ms|s|m|ticks|vol}``) computed the way tardis-node does.

Time bars bucket on exchange time and close when a trade of a later bucket arrives (the bar's
``timestamp`` is its bucket's end, ``localTimestamp`` the receive time of that trade); volume and
tick bars close on the trade that reaches the size. Only trades drive the bars, as in a
tardis-machine request for trades and bars alone. State carries over between chunks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numba as nb
import numpy as np

from replayterm.serve.catalog import Prints
from replayterm.serve.options import TradeBarSpec

_KINDS = {"time": 0, "volume": 1, "tick": 2}
_MIN_SAFE = -9007199254740991.0
_MAX_SAFE = 9007199254740991.0
# state (float64): open high low close volume buy sell trades vwap open_ts close_ts ts
_N_STATE = 12


def _fresh() -> np.ndarray:
    s = np.zeros(_N_STATE)
    s[1], s[2] = _MIN_SAFE, _MAX_SAFE
    s[9] = s[10] = s[11] = -1000.0
    return s


@dataclass(eq=False)
class TradeBarState:
    spec: TradeBarSpec
    state: np.ndarray = field(default_factory=_fresh)

    def reset(self) -> None:
        self.state[:] = _fresh()


class Bars(NamedTuple):
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    buy_volume: np.ndarray
    sell_volume: np.ndarray
    trades: np.ndarray
    vwap: np.ndarray
    open_ts: np.ndarray
    close_ts: np.ndarray
    ts: np.ndarray
    trade: np.ndarray  # index of the trade whose receive time the bar carries


@nb.njit(cache=True, nogil=True)
def _emit(s, out, n, trade_idx, out_trade):
    out[n, :] = s
    out_trade[n] = trade_idx
    s[:] = 0.0
    s[1] = -9007199254740991.0
    s[2] = 9007199254740991.0
    s[9] = s[10] = s[11] = -1000.0


@nb.njit(cache=True, nogil=True)
def _run_bars(kind, interval, exch, price, amount, side, start, end, s, out, out_trade):
    n = 0
    for i in range(start, end):
        ts = float(exch[i])
        if kind == 0 and s[7] > 0:
            open_bucket = np.floor(np.floor(s[9] / 1000.0) / interval)
            if np.floor(np.floor(ts / 1000.0) / interval) > open_bucket:
                s[11] = (open_bucket + 1.0) * interval * 1000.0
                _emit(s, out, n, i, out_trade)
                n += 1
        p = price[i]
        a = amount[i]
        if s[7] == 0:
            s[0] = p
            s[9] = ts
        s[1] = max(s[1], p)
        s[2] = min(s[2], p)
        s[3] = p
        s[10] = ts
        if side[i] > 0:
            s[5] += a
        elif side[i] < 0:
            s[6] += a
        s[7] += 1.0
        s[8] = (s[8] * s[4] + p * a) / (s[4] + a)
        s[4] += a
        s[11] = ts
        if (kind == 1 and s[4] >= interval) or (kind == 2 and s[7] >= interval):
            _emit(s, out, n, i, out_trade)
            n += 1
    return n


def compute_bars(bar: TradeBarState, p: Prints, start: int, end: int) -> Bars | None:
    out = np.empty((end - start, _N_STATE))
    out_trade = np.empty(end - start, dtype=np.int64)
    n = _run_bars(
        _KINDS[bar.spec.kind], float(bar.spec.interval), p.exch_ts, p.price, p.amount, p.side,
        start, end, bar.state, out, out_trade,
    )  # fmt: skip
    if n == 0:
        return None
    o = out[:n]
    return Bars(
        o[:, 0], o[:, 1], o[:, 2], o[:, 3], o[:, 4], o[:, 5], o[:, 6], o[:, 7].astype(np.int64), o[:, 8],
        o[:, 9].astype(np.int64), o[:, 10].astype(np.int64), o[:, 11].astype(np.int64), out_trade[:n],
    )  # fmt: skip
