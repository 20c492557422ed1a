"""Computed book snapshots with tardis-machine's conventions (``book_snapshot_{depth}_{interval}``).

tardis-node computes a snapshot stream from book changes like this, and so does this kernel:

- Intervals are buckets of **exchange time** (``timestamp``), ``floor(ms / interval)``.
- A snapshot keeps the top ``depth`` levels of each side (optionally grouped into price buckets
  of ``grouping``). After each message the kernel compares those levels with the ones it holds;
  any difference marks the snapshot as changed (and a top that changes and changes back inside
  one bucket still counts: a row equal to the previous one is written).
- Before a message is applied: if the snapshot changed and the message's exchange time falls in
  a later bucket than the last update, a row is written with the levels as they were (the book
  *before* that message), ``timestamp`` = the end of the last update's bucket and
  ``localTimestamp`` = the receive time of the message that closed the bucket.
- After a message is applied: with ``interval == 0`` every change writes a row at once; with an
  interval, only the very first change does (the row right after the opening snapshot).
- The last bucket is never closed, so it writes no row.

The state of one computation (``SnapshotState``) survives between calls, so a stream can be
computed in chunks of messages and continued.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba as nb
import numpy as np

from replayterm.core.book.kernel import ASK_HI, BEST_ASK, BEST_BID, BID_LO, POS, _run

# Scalar state (int64): changed flag, initialized flag, last update's exchange time (µs).
_CHANGED = 0
_INITIALIZED = 1
_LAST_TS = 2


def decimal_places(step: float) -> int:
    """Digits after the decimal point of ``step`` as written (tardis-node's grouping precision)."""
    text = repr(float(step))
    if "e-" in text:
        mantissa, exponent = text.split("e-")
        return int(exponent) + (len(mantissa.split(".")[1]) if "." in mantissa else 0)
    if "." not in text:
        return 0
    decimals = text.split(".")[1].rstrip("0")
    return len(decimals)


@dataclass(eq=False)
class SnapshotState:
    """What a snapshot computation remembers between messages (one per symbol and data type)."""

    depth: int
    interval_us: int
    grouping: float = 0.0
    scalars: np.ndarray = field(default_factory=lambda: np.array([0, 0, -1000], dtype=np.int64))
    px: np.ndarray = field(init=False)
    amt: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.px = np.full(2 * self.depth, np.nan)
        self.amt = np.full(2 * self.depth, np.nan)

    @property
    def grouping_pow(self) -> float:
        return float(10 ** decimal_places(self.grouping)) if self.grouping > 0 else 1.0

    def reset(self) -> None:
        """Forget everything (a fresh computation: the next change writes a row at once)."""
        self.scalars[:] = (0, 0, -1000)
        self.px[:] = np.nan
        self.amt[:] = np.nan


@nb.njit(cache=True, nogil=True)
def _grouped_price(price, grouping, pw, is_ask):
    # Same float arithmetic as tardis-node (JS % is fmod): bids round down, asks round up.
    price_pow = price * pw
    group_pow = grouping * pw
    remainder = np.fmod(price_pow, group_pow) / pw
    if is_ask and remainder > 0:
        return (price_pow - remainder * pw + group_pow) / pw
    return (price_pow - remainder * pw) / pw


@nb.njit(cache=True, nogil=True)
def _set_level(px, amt, col, price, amount):
    old_p = px[col]
    old_a = amt[col]
    same_p = old_p == price or (old_p != old_p and price != price)
    same_a = old_a == amount or (old_a != old_a and amount != amount)
    if same_p and same_a:
        return False
    px[col] = price
    amt[col] = amount
    return True


@nb.njit(cache=True, nogil=True)
def _update_plain(prices, book, st, depth, px, amt):
    """Compare the book's top levels with the held ones, take them; True if any differed."""
    changed = False
    for side in range(2):  # 0 = asks (columns 2j), 1 = bids (columns 2j + 1)
        levels = book[1] if side == 0 else book[0]
        i = st[BEST_ASK] if side == 0 else st[BEST_BID]
        k = 0
        if i >= 0:
            while k < depth and (i <= st[ASK_HI] if side == 0 else i >= st[BID_LO]):
                if levels[i] != 0.0:
                    if _set_level(px, amt, 2 * k + side, prices[i], levels[i]):
                        changed = True
                    k += 1
                i = i + 1 if side == 0 else i - 1
        while k < depth:
            if _set_level(px, amt, 2 * k + side, np.nan, np.nan):
                changed = True
            k += 1
    return changed


@nb.njit(cache=True, nogil=True)
def _update_grouped(prices, book, st, depth, grouping, pw, px, amt):
    """tardis-node's grouped update: levels past the last group are left as they were."""
    changed = False
    for side in range(2):
        is_ask = side == 0
        levels = book[1] if is_ask else book[0]
        i = st[BEST_ASK] if is_ask else st[BEST_BID]
        current = np.nan
        agg = 0.0
        d = 0
        full = False
        if i >= 0:
            while i <= st[ASK_HI] if is_ask else i >= st[BID_LO]:
                a = levels[i]
                if a != 0.0:
                    gp = _grouped_price(prices[i], grouping, pw, is_ask)
                    if current != current:
                        current = gp
                    if current != gp:
                        if _set_level(px, amt, 2 * d + side, current, agg):
                            changed = True
                        d += 1
                        if d == depth:
                            full = True
                            break
                        current = gp
                        agg = 0.0
                    agg += a
                i = i + 1 if is_ask else i - 1
        if not full and d < depth and agg > 0 and _set_level(px, amt, 2 * d + side, current, agg):
            changed = True
    return changed


@nb.njit(cache=True, nogil=True)
def _after_update(prices, book, st, depth, interval_us, grouping, pw, sc, px, amt, exch_ts):
    if grouping > 0:
        if _update_grouped(prices, book, st, depth, grouping, pw, px, amt):
            sc[_CHANGED] = 1
    elif _update_plain(prices, book, st, depth, px, amt):
        sc[_CHANGED] = 1
    sc[_LAST_TS] = exch_ts
    if sc[_CHANGED] == 1 and (interval_us == 0 or sc[_INITIALIZED] == 0):
        sc[_CHANGED] = 0
        sc[_INITIALIZED] = 1
        return True
    return False


@nb.njit(cache=True, nogil=True)
def compute_snapshots(
    groups, key, amount, prices, book, st, group_exch_ts, g_end,
    depth, interval_us, grouping, pw, sc, px, amt, out_px, out_amt, out_ts, out_group,
):  # fmt: skip
    """Apply groups ``[st[POS], g_end)`` one by one and write snapshot rows as tardis-node would.

    Stops early when fewer than two output rows are free (a message can write two). Returns the
    number of rows written; ``out_group[r]`` is the group whose receive time is row r's
    ``localTimestamp`` and ``out_ts[r]`` the row's ``timestamp``.
    """
    empty_log = st[:0]
    empty_best = key[:0]
    empty_amt = np.empty(0, dtype=np.float64)
    cap = out_ts.shape[0]
    n = 0
    while st[POS] < g_end and n + 2 <= cap:
        g = st[POS]
        ts = group_exch_ts[g]
        if sc[_CHANGED] == 1 and sc[_INITIALIZED] == 1 and interval_us > 0:
            bucket = sc[_LAST_TS] // interval_us
            if ts // interval_us > bucket:
                out_px[n] = px
                out_amt[n] = amt
                out_ts[n] = (bucket + 1) * interval_us
                out_group[n] = g
                n += 1
                sc[_CHANGED] = 0
        _run(groups, key, amount, book, st, g + 1, empty_log, empty_best, empty_amt)
        if _after_update(prices, book, st, depth, interval_us, grouping, pw, sc, px, amt, ts):
            out_px[n] = px
            out_amt[n] = amt
            out_ts[n] = ts
            out_group[n] = g
            n += 1
    return n


def observe_current(
    prices: np.ndarray, book: np.ndarray, st: np.ndarray, state: SnapshotState, exch_ts: int
) -> bool:
    """Treat the book as it stands as one message (a synthesized opening snapshot); True = write a row."""
    return bool(
        _after_update(
            prices,
            book,
            st,
            state.depth,
            state.interval_us,
            state.grouping,
            state.grouping_pow,
            state.scalars,
            state.px,
            state.amt,
            exch_ts,
        )
    )
