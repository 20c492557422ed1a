"""Compiled market-by-order (L3) book: every order, FIFO per price level.

Inputs per record (prepared by ``book.l3.events``): ``action`` uint8 (Databento letters),
``level`` int32 = ``2 * price_rank + (1 if ask else 0)`` (-1 when the record has no price/side),
``size`` int64, ``order`` int32 (dense order number), ``flags`` uint8.

State: per order ``o_size``, ``o_level`` (-1 = not in the book), ``o_prev``/``o_next`` (the
FIFO links inside its level), ``o_prio`` (the record at which it joined the back of its queue;
-1 for orders seeded at the front); per level ``l_head``/``l_tail``/``l_total``/``l_count``; the
levels touched since the last end of event (``mark``/``dirty``); scalars ``st`` (indices below).

Rules (Databento's): Add appends at the back of its level (a seed, ``S``, goes to
the front: it stands for orders resting before the data starts). Cancel removes ``size`` from the
order, the order leaves when nothing is left. Modify to another price or to a larger size loses
priority (back of the new level); a smaller size keeps it; a Modify of an unknown order is an
Add. Clear empties the book and starts a snapshot, and so does the first record of a run flagged
``F_SNAPSHOT``. Trade, Fill and None never change the book. The book is observable only after a
record flagged ``F_LAST``: there the touched levels are emitted (``emit``) as L2 rows with their
new total; after a snapshot every non-empty level is emitted, flagged as snapshot. A level
touched whose total did not change is still emitted, so that every event that moved an order
has an L2 row (the L2 and the L3 book then always meet at message boundaries).

A market-by-order book can really be crossed (a pre-open auction accepts orders without matching
them). The L2 book trims a crossed book by its own rule, so when the L3 book uncrosses, the next
end of event is emitted as a full snapshot: from there on the L2 view equals the L3 book again.
"""

from __future__ import annotations

import numba as nb
import numpy as np

ADD = 65  # 'A'
CANCEL = 67  # 'C'
MODIFY = 77  # 'M'
CLEAR = 82  # 'R'
F_LAST = 128
F_SNAPSHOT = 32
SEED = 83  # 'S': our seeded add, at the front of its level

# Scalar state layout.
POS = 0  # next record to apply
N_OUT = 1  # rows emitted so far
N_DIRTY = 2
IN_SNAPSHOT = 3  # a snapshot is being built: the next end of event emits every level
PREV_SNAPSHOT_FLAG = 4
UNKNOWN_CANCELS = 5  # cancels of orders not in the book
UNKNOWN_MODIFIES = 6  # modifies of orders not in the book (applied as adds)
DUPLICATE_ADDS = 7  # adds of an order id already in the book (the old one is replaced)
LIVE_ORDERS = 8
SNAPSHOTS = 9
BEST_BID = 10  # price rank of the best bid, -1 when none (kept at ends of events)
BEST_ASK = 11
CROSSED = 12  # the book was crossed at the last end of event
CROSSED_EVENTS = 13  # ends of events with a crossed book (a pre-open auction)
N_SCALARS = 14


def new_state(n_orders: int, n_levels: int) -> dict[str, np.ndarray]:
    st = np.zeros(N_SCALARS, dtype=np.int64)
    st[BEST_BID] = -1
    st[BEST_ASK] = -1
    st[IN_SNAPSHOT] = 1  # the book starts empty: its first emission is a full snapshot
    return {
        "o_size": np.zeros(n_orders, np.int64),
        "o_level": np.full(n_orders, -1, np.int32),
        "o_prev": np.full(n_orders, -1, np.int32),
        "o_next": np.full(n_orders, -1, np.int32),
        "o_prio": np.zeros(n_orders, np.int64),
        "l_head": np.full(n_levels, -1, np.int32),
        "l_tail": np.full(n_levels, -1, np.int32),
        "l_total": np.zeros(n_levels, np.int64),
        "l_count": np.zeros(n_levels, np.int32),
        "mark": np.zeros(n_levels, np.uint8),
        "dirty": np.zeros(n_levels, np.int32),
        "st": st,
    }


STATE_ORDER = (
    "o_size", "o_level", "o_prev", "o_next", "o_prio",
    "l_head", "l_tail", "l_total", "l_count", "mark", "dirty", "st",
)  # fmt: skip


@nb.njit(cache=True, inline="always")
def _touch(lv, mark, dirty, st):
    if mark[lv] == 0:
        mark[lv] = 1
        dirty[st[N_DIRTY]] = lv
        st[N_DIRTY] += 1


@nb.njit(cache=True)
def _unlink(o, o_size, o_level, o_prev, o_next, l_head, l_tail, l_total, l_count, mark, dirty, st):
    lv = o_level[o]
    p = o_prev[o]
    n = o_next[o]
    if p >= 0:
        o_next[p] = n
    else:
        l_head[lv] = n
    if n >= 0:
        o_prev[n] = p
    else:
        l_tail[lv] = p
    l_total[lv] -= o_size[o]
    l_count[lv] -= 1
    o_level[o] = -1
    o_prev[o] = -1
    o_next[o] = -1
    st[LIVE_ORDERS] -= 1
    _touch(lv, mark, dirty, st)


@nb.njit(cache=True)
def _link(
    o,
    lv,
    sz,
    prio,
    front,
    o_size,
    o_level,
    o_prev,
    o_next,
    o_prio,
    l_head,
    l_tail,
    l_total,
    l_count,
    mark,
    dirty,
    st,
):
    o_level[o] = lv
    o_size[o] = sz
    o_prio[o] = prio
    if front and l_head[lv] >= 0:
        h = l_head[lv]
        o_prev[o] = -1
        o_next[o] = h
        o_prev[h] = o
        l_head[lv] = o
    else:
        t = l_tail[lv]
        o_prev[o] = t
        o_next[o] = -1
        if t >= 0:
            o_next[t] = o
        else:
            l_head[lv] = o
        l_tail[lv] = o
    l_total[lv] += sz
    l_count[lv] += 1
    st[LIVE_ORDERS] += 1
    _touch(lv, mark, dirty, st)


@nb.njit(cache=True)
def _clear(o_level, o_prev, o_next, l_head, l_tail, l_total, l_count, st):
    for lv in range(l_head.shape[0]):
        o = l_head[lv]
        while o >= 0:
            n = o_next[o]
            o_level[o] = -1
            o_prev[o] = -1
            o_next[o] = -1
            o = n
        l_head[lv] = -1
        l_tail[lv] = -1
        l_total[lv] = 0
        l_count[lv] = 0
    st[LIVE_ORDERS] = 0
    st[BEST_BID] = -2
    st[BEST_ASK] = -2


@nb.njit(cache=True)
def _update_best(l_count, dirty, st):
    """Best bid/ask ranks after an event, from the levels it touched (rescan only when a best
    level emptied; a full scan after a clear or a restore, marked by -2)."""
    n_ranks = l_count.shape[0] // 2
    bb = st[BEST_BID]
    ba = st[BEST_ASK]
    if bb == -2 or ba == -2:
        bb = -1
        ba = -1
        for r in range(n_ranks):
            if l_count[2 * r] > 0:
                bb = r
            if ba < 0 and l_count[2 * r + 1] > 0:
                ba = r
    for j in range(st[N_DIRTY]):
        lv = dirty[j]
        r = lv >> 1
        if l_count[lv] > 0:
            if lv % 2 == 0:
                if r > bb:
                    bb = r
            elif ba < 0 or r < ba:
                ba = r
    if bb >= 0 and l_count[2 * bb] == 0:
        while bb >= 0 and l_count[2 * bb] == 0:
            bb -= 1
    if ba >= 0 and l_count[2 * ba + 1] == 0:
        while ba < n_ranks and l_count[2 * ba + 1] == 0:
            ba += 1
        if ba >= n_ranks:
            ba = -1
    st[BEST_BID] = bb
    st[BEST_ASK] = ba


@nb.njit(cache=True, nogil=True)
def run(
    action, level, size, order, flags,
    o_size, o_level, o_prev, o_next, o_prio, l_head, l_tail, l_total, l_count, mark, dirty, st,
    stop, emit, out_rec, out_level, out_total, out_snap,
):  # fmt: skip
    """Apply records ``[st[POS], stop)``. With ``emit``, L2 rows are written from ``st[N_OUT]`` and
    the run pauses (returns False) when the output could not take a full snapshot; True when
    ``stop`` was reached. The end of the data counts as an end of event."""
    n_levels = l_total.shape[0]
    n_records = action.shape[0]
    pos = st[POS]
    while pos < stop:
        if emit and st[N_OUT] + n_levels + 4 > out_rec.shape[0]:
            st[POS] = pos
            return False
        a = action[pos]
        f = flags[pos]
        snap_flag = 1 if (f & F_SNAPSHOT) != 0 else 0
        if a == CLEAR or (snap_flag == 1 and st[PREV_SNAPSHOT_FLAG] == 0):
            _clear(o_level, o_prev, o_next, l_head, l_tail, l_total, l_count, st)
            st[IN_SNAPSHOT] = 1
            st[SNAPSHOTS] += 1
        if a in (ADD, SEED):
            o = order[pos]
            lv = level[pos]
            if lv >= 0 and size[pos] > 0:
                if o_level[o] >= 0:
                    st[DUPLICATE_ADDS] += 1
                    _unlink(
                        o, o_size, o_level, o_prev, o_next, l_head, l_tail, l_total, l_count, mark, dirty, st
                    )
                seeded = a == SEED
                _link(o, lv, size[pos], -1 if seeded else pos, seeded,
                      o_size, o_level, o_prev, o_next, o_prio, l_head, l_tail,
                      l_total, l_count, mark, dirty, st)  # fmt: skip
        elif a == CANCEL:
            o = order[pos]
            lv = o_level[o]
            if lv < 0:
                st[UNKNOWN_CANCELS] += 1
            elif size[pos] >= o_size[o]:
                _unlink(o, o_size, o_level, o_prev, o_next, l_head, l_tail, l_total, l_count, mark, dirty, st)
            else:
                o_size[o] -= size[pos]
                l_total[lv] -= size[pos]
                _touch(lv, mark, dirty, st)
        elif a == MODIFY:
            o = order[pos]
            lv = level[pos]
            old = o_level[o]
            sz = size[pos]
            if old < 0:
                if lv >= 0 and sz > 0:
                    st[UNKNOWN_MODIFIES] += 1
                    _link(o, lv, sz, pos, False,
                          o_size, o_level, o_prev, o_next, o_prio, l_head, l_tail,
                          l_total, l_count, mark, dirty, st)  # fmt: skip
            elif sz <= 0 or lv < 0:
                _unlink(o, o_size, o_level, o_prev, o_next, l_head, l_tail, l_total, l_count, mark, dirty, st)
            elif lv != old or sz > o_size[o]:
                _unlink(o, o_size, o_level, o_prev, o_next, l_head, l_tail, l_total, l_count, mark, dirty, st)
                _link(o, lv, sz, pos, False,
                      o_size, o_level, o_prev, o_next, o_prio, l_head, l_tail,
                      l_total, l_count, mark, dirty, st)  # fmt: skip
            else:
                l_total[old] -= o_size[o] - sz
                o_size[o] = sz
                _touch(old, mark, dirty, st)
        st[PREV_SNAPSHOT_FLAG] = snap_flag
        pos += 1
        if (f & F_LAST) != 0 or pos == n_records:
            n = st[N_OUT]
            _update_best(l_count, dirty, st)
            crossed = st[BEST_BID] >= 0 and st[BEST_ASK] >= 0 and st[BEST_BID] >= st[BEST_ASK]
            if crossed:
                st[CROSSED_EVENTS] += 1
            elif st[CROSSED] == 1:
                st[IN_SNAPSHOT] = 1  # uncrossed again: resynchronise the L2 view in full
            st[CROSSED] = 1 if crossed else 0
            if emit:
                if st[IN_SNAPSHOT] == 1:
                    for lv in range(n_levels):
                        if l_count[lv] > 0:
                            out_rec[n] = pos - 1
                            out_level[n] = lv
                            out_total[n] = l_total[lv]
                            out_snap[n] = 1
                            n += 1
                else:
                    for j in range(st[N_DIRTY]):
                        lv = dirty[j]
                        out_rec[n] = pos - 1
                        out_level[n] = lv
                        out_total[n] = l_total[lv]
                        out_snap[n] = 0
                        n += 1
            for j in range(st[N_DIRTY]):
                mark[dirty[j]] = 0
            st[N_DIRTY] = 0
            st[N_OUT] = n
            st[IN_SNAPSHOT] = 0
    st[POS] = pos
    return True


@nb.njit(cache=True)
def orders_of_book(o_size, o_next, o_prio, l_head, l_count):
    """Every resting order level by level in FIFO order: (order, level, size, prio) arrays."""
    total = 0
    for lv in range(l_head.shape[0]):
        total += l_count[lv]
    out_o = np.empty(total, np.int32)
    out_l = np.empty(total, np.int32)
    out_s = np.empty(total, np.int64)
    out_p = np.empty(total, np.int64)
    k = 0
    for lv in range(l_head.shape[0]):
        o = l_head[lv]
        while o >= 0:
            out_o[k] = o
            out_l[k] = lv
            out_s[k] = o_size[o]
            out_p[k] = o_prio[o]
            k += 1
            o = o_next[o]
    return out_o, out_l, out_s, out_p


@nb.njit(cache=True)
def restore(
    ords,
    lvls,
    sizes,
    prios,
    o_size,
    o_level,
    o_prev,
    o_next,
    o_prio,
    l_head,
    l_tail,
    l_total,
    l_count,
    mark,
    dirty,
    st,
):
    """Empty the book, then put the given orders back in the given (FIFO) order."""
    _clear(o_level, o_prev, o_next, l_head, l_tail, l_total, l_count, st)
    for i in range(ords.shape[0]):
        _link(ords[i], lvls[i], sizes[i], prios[i], False,
              o_size, o_level, o_prev, o_next, o_prio, l_head, l_tail,
              l_total, l_count, mark, dirty, st)  # fmt: skip
    for j in range(st[N_DIRTY]):
        mark[dirty[j]] = 0
    st[N_DIRTY] = 0
    _update_best(l_count, dirty, st)


@nb.njit(cache=True)
def level_sizes(lv, o_size, o_next, l_head, l_count):
    """The sizes of the orders at one level, front of the queue first."""
    out = np.empty(l_count[lv], np.int64)
    o = l_head[lv]
    k = 0
    while o >= 0:
        out[k] = o_size[o]
        k += 1
        o = o_next[o]
    return out


@nb.njit(cache=True)
def size_ahead(lv, prio, o_size, o_next, o_prio, l_head):
    """Size of the orders at ``lv`` that joined the queue before record ``prio`` (ahead of an
    order that joined then): the front of the FIFO up to the first later order."""
    total = 0
    o = l_head[lv]
    while o >= 0 and o_prio[o] < prio:
        total += o_size[o]
        o = o_next[o]
    return total


@nb.njit(cache=True)
def levels_orders(levels, k, o_size, o_next, l_head, l_count):
    """Per level of ``levels`` (-1 = not a level): its order count and the sizes of its first
    ``k`` orders, front of the queue first (0-padded)."""
    n = levels.shape[0]
    counts = np.zeros(n, np.int64)
    sizes = np.zeros((n, k), np.int64)
    for i in range(n):
        lv = levels[i]
        if lv < 0:
            continue
        counts[i] = l_count[lv]
        o = l_head[lv]
        j = 0
        while o >= 0 and j < k:
            sizes[i, j] = o_size[o]
            j += 1
            o = o_next[o]
    return counts, sizes
