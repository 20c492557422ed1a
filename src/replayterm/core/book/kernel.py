"""Compiled kernel that applies book messages to a dense L2 state (docs/architecture.md, "Book rules").

Inputs (see ``events``)
-----------------------
``groups``: int64 (2, n_groups + 1). ``groups[0]`` are the row offsets of the message groups;
``groups[1, g]`` is the first row of group g that takes effect, stored as ``~row`` (negative)
when the group starts a snapshot and so clears the book first. ``key``: int32 per row, the
price rank for a bid and ``~rank`` for an ask. ``amount``: float64 per row.

State of one book
-----------------
``book``: float64 (2, n_prices), amounts per price rank, row 0 bids and row 1 asks; a level
exists where the amount is > 0. ``st``: int64 scalars (indices below): best ranks (-1 = empty
side), level counts, the dirty rank range of each side (every nonzero amount lies in
``[lo, hi]``, so clearing and scanning never sweep the whole grid), counters, and ``POS`` =
index of the next group to apply.

Rules applied to each message group
-----------------------------------
- A group that starts a snapshot clears both sides first.
- Each row sets the absolute amount of its level; 0 deletes the level; deleting a level that
  does not exist changes nothing.
- The best rank is updated by comparison on insert and rescanned only when the best level
  itself is deleted (walk away from the spread to the next nonzero amount or the dirty bound).
- Crossed book, checked once after the whole group, as tardis-node's ``OrderBook`` does: the
  book counts as crossed when best bid price >= best ask price (so a locked book is trimmed
  too). Which side to trim is decided once, looking at the book after the message: if the
  message carried an ask row at the price that is now the best ask, the asks are taken as the
  fresh side and best *bid* levels are removed; in every other case (only bids touched, both
  sides touched but no ask row at the best ask, or neither side touched) best *ask* levels are
  removed. Levels of that one side go best first until the book is no longer crossed or that
  side is empty. Each removed level adds one to ``CROSSED_REMOVALS``; each message that needed
  removals adds one to ``CROSSED_GROUPS``.

Batch entry points release the GIL (``nogil=True``): a long fast-forward, seek or index pass on
the replay thread then never stalls the GUI thread. ``step_group`` keeps it: a single message is
short and releasing costs more than it gives on that path.

The scalar state lives in locals for the whole loop (written back once), which is 2-3x faster
than reading and writing ``st`` per row. Entry points take five arrays: numba's dispatch cost
grows by ~60 ns per array argument, which the per-message path pays on every call.
"""

from __future__ import annotations

import numba as nb
import numpy as np

# Scalar state layout (int64 array).
BEST_BID = 0
BEST_ASK = 1
N_BID = 2
N_ASK = 3
BID_LO = 4
BID_HI = 5
ASK_LO = 6
ASK_HI = 7
CROSSED_REMOVALS = 8
CROSSED_GROUPS = 9
POS = 10
STATE_SIZE = 11

_NO_LO = np.iinfo(np.int64).max


def new_scalar_state() -> np.ndarray:
    """Scalar state of an empty book positioned before the first group."""
    st = np.zeros(STATE_SIZE, dtype=np.int64)
    st[BEST_BID] = -1
    st[BEST_ASK] = -1
    st[BID_LO] = _NO_LO
    st[ASK_LO] = _NO_LO
    st[BID_HI] = -1
    st[ASK_HI] = -1
    return st


@nb.njit(cache=True)
def _run(
    groups: np.ndarray,
    key: np.ndarray,
    amount: np.ndarray,
    book: np.ndarray,
    st: np.ndarray,
    g_end: int,
    log: np.ndarray,
    best: np.ndarray,
    best_amt: np.ndarray,
) -> int:
    """Apply groups ``[st[POS], g_end)``. Logs crossed groups into ``log`` and the best ranks
    after group g into ``best[2g], best[2g+1]`` when those arrays are not empty; returns the
    number logged. Callers that log nothing pass empty slices of arrays they already have
    (no allocation; module-level empty arrays would be frozen as read-only constants)."""
    bid = book[0]
    ask = book[1]
    bb = st[BEST_BID]
    ba = st[BEST_ASK]
    nbid = st[N_BID]
    nask = st[N_ASK]
    blo = st[BID_LO]
    bhi = st[BID_HI]
    alo = st[ASK_LO]
    ahi = st[ASK_HI]
    removals = st[CROSSED_REMOVALS]
    crossed = st[CROSSED_GROUPS]
    logging = log.shape[0] > 0
    recording = best.shape[0] > 0
    n_logged = 0
    g = st[POS]
    while g < g_end:
        s = groups[1, g]
        if s < 0:
            s = ~s
            for i in range(blo, bhi + 1):
                bid[i] = 0.0
            for i in range(alo, ahi + 1):
                ask[i] = 0.0
            bb = -1
            ba = -1
            nbid = 0
            nask = 0
            blo = _NO_LO
            bhi = -1
            alo = _NO_LO
            ahi = -1
        e = groups[0, g + 1]
        for r in range(s, e):
            k = int(key[r])
            a = amount[r]
            if k >= 0:
                old = bid[k]
                if a > 0.0:
                    bid[k] = a
                    if old == 0.0:
                        nbid += 1
                        if k > bb:
                            bb = k
                        if k < blo:
                            blo = k
                        if k > bhi:
                            bhi = k
                elif old != 0.0:
                    bid[k] = 0.0
                    nbid -= 1
                    if k == bb:
                        i = k - 1
                        while i >= blo and bid[i] == 0.0:
                            i -= 1
                        bb = i if i >= blo else -1
            else:
                k = ~k
                old = ask[k]
                if a > 0.0:
                    ask[k] = a
                    if old == 0.0:
                        nask += 1
                        if ba < 0 or k < ba:
                            ba = k
                        if k < alo:
                            alo = k
                        if k > ahi:
                            ahi = k
                elif old != 0.0:
                    ask[k] = 0.0
                    nask -= 1
                    if k == ba:
                        i = k + 1
                        while i <= ahi and ask[i] == 0.0:
                            i += 1
                        ba = i if i <= ahi else -1
        if bb >= 0 and ba >= 0 and bb >= ba:
            trim_bids = False
            for r in range(s, e):
                if key[r] == ~ba:
                    trim_bids = True
                    break
            while bb >= 0 and ba >= 0 and bb >= ba:
                if trim_bids:
                    bid[bb] = 0.0
                    nbid -= 1
                    i = bb - 1
                    while i >= blo and bid[i] == 0.0:
                        i -= 1
                    bb = i if i >= blo else -1
                else:
                    ask[ba] = 0.0
                    nask -= 1
                    i = ba + 1
                    while i <= ahi and ask[i] == 0.0:
                        i += 1
                    ba = i if i <= ahi else -1
                removals += 1
            crossed += 1
            if logging:
                log[n_logged] = g
                n_logged += 1
        if recording:
            best[2 * g] = bb
            best[2 * g + 1] = ba
            best_amt[2 * g] = bid[bb] if bb >= 0 else 0.0
            best_amt[2 * g + 1] = ask[ba] if ba >= 0 else 0.0
        g += 1
    st[BEST_BID] = bb
    st[BEST_ASK] = ba
    st[N_BID] = nbid
    st[N_ASK] = nask
    st[BID_LO] = blo
    st[BID_HI] = bhi
    st[ASK_LO] = alo
    st[ASK_HI] = ahi
    st[CROSSED_REMOVALS] = removals
    st[CROSSED_GROUPS] = crossed
    if g > st[POS]:
        st[POS] = g
    return n_logged


@nb.njit(cache=True, nogil=True)
def apply_groups(
    groups: np.ndarray, key: np.ndarray, amount: np.ndarray, book: np.ndarray, st: np.ndarray, g_end: int
) -> None:
    """Apply groups ``[st[POS], g_end)``; afterwards ``st[POS] = max(st[POS], g_end)``."""
    _run(groups, key, amount, book, st, g_end, st[:0], key[:0], np.empty(0, dtype=np.float64))


@nb.njit(cache=True)
def step_group(
    groups: np.ndarray, key: np.ndarray, amount: np.ndarray, book: np.ndarray, st: np.ndarray
) -> int:
    """Apply the one group at ``st[POS]``; return its index, or -1 when already at the end."""
    g = st[POS]
    if g >= groups.shape[1] - 1:
        return -1
    _run(groups, key, amount, book, st, g + 1, st[:0], key[:0], np.empty(0, dtype=np.float64))
    return g


@nb.njit(cache=True, nogil=True)
def apply_groups_logged(
    groups: np.ndarray,
    key: np.ndarray,
    amount: np.ndarray,
    book: np.ndarray,
    st: np.ndarray,
    g_end: int,
    log: np.ndarray,
    best: np.ndarray,
    best_amt: np.ndarray,
) -> int:
    """``apply_groups`` for the index pass: logs the groups that needed crossed-level removals
    into ``log`` (sized for at least ``g_end - st[POS]`` entries) and, when ``best`` (int32,
    2 * n_groups) is not empty, the best bid/ask ranks after group g into ``best[2g:2g+2]`` and
    their amounts into ``best_amt`` (float64, same size). Returns the number logged."""
    return _run(groups, key, amount, book, st, g_end, log, best, best_amt)


@nb.njit(cache=True, nogil=True)
def extract_side(amounts: np.ndarray, lo: int, hi: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` nonzero levels in ``amounts[lo:hi+1]`` as (int32 ranks, float64 amounts)."""
    idx = np.empty(count, dtype=np.int32)
    val = np.empty(count, dtype=np.float64)
    n = 0
    for i in range(lo, hi + 1):
        a = amounts[i]
        if a != 0.0:
            idx[n] = i
            val[n] = a
            n += 1
    return idx, val


@nb.njit(cache=True, nogil=True)
def restore_state(
    book: np.ndarray,
    st: np.ndarray,
    bid_idx: np.ndarray,
    bid_amt: np.ndarray,
    ask_idx: np.ndarray,
    ask_amt: np.ndarray,
    saved_st: np.ndarray,
) -> None:
    """Overwrite the live state with a sparse saved one (zeroes only the live dirty ranges)."""
    bid = book[0]
    ask = book[1]
    for i in range(st[BID_LO], st[BID_HI] + 1):
        bid[i] = 0.0
    for i in range(st[ASK_LO], st[ASK_HI] + 1):
        ask[i] = 0.0
    for n in range(bid_idx.shape[0]):
        bid[bid_idx[n]] = bid_amt[n]
    for n in range(ask_idx.shape[0]):
        ask[ask_idx[n]] = ask_amt[n]
    for n in range(st.shape[0]):
        st[n] = saved_st[n]
