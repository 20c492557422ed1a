"""The compiled market model: what happens in each exchange message.

A latent fair mid moves in jumps of whole ticks; their rate and size scale with a volatility
factor whose log mean-reverts and now and then jumps up (volatility clusters). The message rate
rises with volatility too. Each step is one exchange message:

* a taker order (more likely while the book lags the fair mid, on the side that corrects it)
  walks the book from the touch; it is printed as trades, and the book message right after
  shows the traded levels shrunk or gone (nothing else touches them in that message);
* or 1..n limit-order events: each picks a price at a geometric distance from the fair mid and
  resamples that level towards a target occupancy and size that decay away from the touch
  (adds, partial cancels, deletes); quotes on the wrong side of the fair mid are pulled;
* plus, per side, a step up to an empty fair touch, an occasional deep-book update and a far-end
  add/delete that holds each side near its target number of levels.

A recorder reconnect drops everything for a short gap, then writes a fresh full snapshot.
Bids are only ever added below the best ask and asks above the best bid, so the true book is
never crossed or locked, and each message carries every level it changed.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from replayterm.core.data.synthetic.book import recentre, set_level, touch
from replayterm.core.data.synthetic.emit import (
    emit_message,
    emit_snapshot,
    emit_ticker,
    exchange_ms,
    next_local,
)
from replayterm.core.data.synthetic.limit_orders import (
    _fair_bid,
    _level_size,
    _occupancy,
    _op_deep,
    _op_maintain,
    _op_near,
    _op_touch,
)
from replayterm.core.data.synthetic.params import (
    P_DEEP_PROB,
    P_GAP_MAX,
    P_GAP_MIN,
    P_IMPROVE_PROB,
    P_JUMP_MEAN,
    P_JUMP_RATE,
    P_LEVELS,
    P_MAINT_PROB,
    P_MAX_ROWS,
    P_MAX_SWEEP,
    P_OPS_MEAN,
    P_PRESSURE,
    P_RATE,
    P_RATE_VOL_EXP,
    P_RECON_MAX,
    P_RECON_MIN,
    P_SPIKE_MEAN,
    P_SPIKE_RATE,
    P_SPIKE_TAU,
    P_STALE_SWEEP,
    P_START_TICKS,
    P_TRADE_MED,
    P_TRADE_PROB,
    P_TRADE_SIGMA,
    P_VOL_ETA,
    P_VOL_JUMP,
    P_VOL_JUMP_RATE,
    P_VOL_KAPPA,
)
from replayterm.core.data.synthetic.state import (
    BOOK_WIDTH,
    F_GAP_END,
    F_LOGVOL,
    F_NEXT_RECON,
    F_SPIKE,
    F_T,
    S_BA,
    S_BASE,
    S_BB,
    S_FA,
    S_FB,
    S_IN_GAP,
    S_LAST_LOCAL,
    S_NA,
    S_NB,
    S_REF,
    S_STARTED,
    S_TRADE_ID,
)


@nb.njit(cache=True, nogil=True)
def init_state(rng, amounts, ist, fst, prm, start_us: float) -> None:
    """Build the opening book around the start price and reset all state."""
    amounts[:, :] = 0
    ist[:] = 0
    fst[:] = 0.0
    start_ticks = prm[P_START_TICKS]
    ist[S_BASE] = np.int64(math.floor(start_ticks)) - BOOK_WIDTH // 2
    ist[S_BB] = -1
    ist[S_FB] = BOOK_WIDTH
    ist[S_BA] = BOOK_WIDTH
    ist[S_FA] = -1
    ist[S_LAST_LOCAL] = np.int64(start_us)
    ist[S_TRADE_ID] = 100_000_000 + np.int64(rng.integers(0, 900_000_000))
    fst[F_T] = start_us
    ist[S_REF] = np.int64(math.floor(start_ticks))
    b0 = _fair_bid(ist)
    target = int(prm[P_LEVELS])
    d = 0
    while ist[S_NB] < target:
        if rng.random() < _occupancy(prm, float(d)):
            set_level(amounts, ist, 0, b0 - d, _level_size(rng, prm, float(d)))
        d += 1
    d = 0
    while ist[S_NA] < target:
        if rng.random() < _occupancy(prm, float(d)):
            set_level(amounts, ist, 1, b0 + 1 + d, _level_size(rng, prm, float(d)))
        d += 1


@nb.njit(cache=True, nogil=True)
def _advance(rng, ist, fst, prm) -> None:
    """Move true time to the next message and evolve volatility, fair mid and latency stalls."""
    vol = math.exp(fst[F_LOGVOL])
    rate = prm[P_RATE] * vol ** prm[P_RATE_VOL_EXP]
    dt_us = rng.exponential(1e6 / rate) + 1.0
    dt = dt_us * 1e-6
    lv = fst[F_LOGVOL]
    lv += -prm[P_VOL_KAPPA] * lv * dt + prm[P_VOL_ETA] * math.sqrt(dt) * rng.standard_normal()
    if rng.random() < prm[P_VOL_JUMP_RATE] * dt:
        lv += prm[P_VOL_JUMP] * (0.5 + rng.random())
    fst[F_LOGVOL] = min(max(lv, -1.5), 2.5)
    if rng.random() < prm[P_JUMP_RATE] * vol * dt:
        size = 1 + int(rng.exponential(prm[P_JUMP_MEAN] * math.sqrt(vol)))
        ist[S_REF] += size if rng.random() < 0.5 else -size
    fst[F_SPIKE] *= math.exp(-dt_us / prm[P_SPIKE_TAU])
    if rng.random() < prm[P_SPIKE_RATE] * dt:
        fst[F_SPIKE] += rng.exponential(prm[P_SPIKE_MEAN])
    fst[F_T] += dt_us


@nb.njit(cache=True, nogil=True)
def _taker(
    rng, amounts, ist, fst, prm, emit: bool, tr_ex, tr_lo, tr_id, tr_side, tr_px, tr_amt, n_tr, touched
):
    """A taker order walking the touch. Returns (trades written, touched count)."""
    b0 = _fair_bid(ist)
    mid = 0.5 * (ist[S_BB] + ist[S_BA])
    fair = b0 + 0.5
    p_buy = 1.0 / (1.0 + math.exp(-prm[P_PRESSURE] * (fair - mid)))
    buy = rng.random() < p_buy
    book = 1 if buy else 0  # the side the taker consumes
    size = np.int64(max(1.0, prm[P_TRADE_MED] * math.exp(prm[P_TRADE_SIGMA] * rng.standard_normal())))
    max_sweep = int(prm[P_MAX_SWEEP])
    # Quotes left on the wrong side of the fair mid are stale: some takers sweep them all.
    if rng.random() >= prm[P_STALE_SWEEP]:
        pass
    elif buy:
        j = ist[S_BA]
        while j <= b0 and j <= ist[S_FA]:
            size += amounts[1, j]
            j += 1
    else:
        j = ist[S_BB]
        while j > b0 and j >= ist[S_FB]:
            size += amounts[0, j]
            j -= 1
    t = fst[F_T]
    ex = exchange_ms(t)
    lo = np.int64(0)
    if emit:
        lo = next_local(rng, ist, fst, prm, t)
    nt = 0
    remaining = size
    levels = 0
    while remaining > 0 and levels < max_sweep:
        count = ist[S_NA] if buy else ist[S_NB]
        if count <= 1:
            break
        j = ist[S_BA] if buy else ist[S_BB]
        avail = amounts[book, j]
        take = min(remaining, avail)
        fills = min(take, np.int64(1 + (rng.random() < 0.25) + (rng.random() < 0.08)))
        left = take
        for k in range(fills):
            if k == fills - 1:
                part = left
            else:
                room = left - (fills - k - 1)
                part = min(room, np.int64(1 + rng.random() * room))
            left -= part
            ist[S_TRADE_ID] += 1
            if emit:
                tr_ex[n_tr] = ex
                tr_lo[n_tr] = lo
                tr_id[n_tr] = ist[S_TRADE_ID]
                tr_side[n_tr] = 0 if buy else 1
                tr_px[n_tr] = ist[S_BASE] + j
                tr_amt[n_tr] = part
                n_tr += 1
        set_level(amounts, ist, book, j, avail - take)
        nt = touch(touched, nt, book, j, True)
        remaining -= take
        levels += 1
    return n_tr, nt


@nb.njit(cache=True, nogil=True)
def _fresh_snapshot(
    rng, amounts, ist, fst, prm, l2_ex, l2_lo, l2_snap, l2_side, l2_px, l2_amt, n_l2,
    tk_ex, tk_lo, tk_bpx, tk_bq, tk_apx, tk_aq, n_tk,
):  # fmt: skip
    """A full snapshot (the start, or after a recorder reconnect) and the ticker row it implies;
    schedules the next reconnect. Returns the new book and ticker row counts."""
    fst[F_NEXT_RECON] = fst[F_T] + rng.uniform(prm[P_RECON_MIN], prm[P_RECON_MAX])
    n_l2 = emit_snapshot(rng, amounts, ist, fst, prm, l2_ex, l2_lo, l2_snap, l2_side, l2_px, l2_amt, n_l2)
    tick = exchange_ms(fst[F_T])
    n_tk = emit_ticker(
        amounts, ist, tick, ist[S_LAST_LOCAL], tk_ex, tk_lo, tk_bpx, tk_bq, tk_apx, tk_aq, n_tk
    )
    return n_l2, n_tk


@nb.njit(cache=True, nogil=True)
def run_chunk(
    rng,
    amounts,
    ist,
    fst,
    prm,
    end_us: float,
    max_book_rows: int,
    book_rows_before: int,
    l2_ex,
    l2_lo,
    l2_snap,
    l2_side,
    l2_px,
    l2_amt,
    tr_ex,
    tr_lo,
    tr_id,
    tr_side,
    tr_px,
    tr_amt,
    tk_ex,
    tk_lo,
    tk_bpx,
    tk_bq,
    tk_apx,
    tk_aq,
):
    """Simulate until the end (time or row budget) or until an output buffer is nearly full.

    Returns (book rows, trade rows, ticker rows, finished). Call again with fresh buffers to go on.
    """
    max_rows = int(prm[P_MAX_ROWS])
    max_sweep = int(prm[P_MAX_SWEEP])
    touched = np.empty(max_rows + 4, dtype=np.int64)
    n_l2 = 0
    n_tr = 0
    n_tk = 0
    while True:
        if fst[F_T] >= end_us or book_rows_before + n_l2 >= max_book_rows:
            return n_l2, n_tr, n_tk, True
        snapshot_room = ist[S_NB] + ist[S_NA] + max_rows + 8
        if (
            n_l2 + snapshot_room > len(l2_ex)
            or n_tr + 3 * max_sweep + 3 > len(tr_ex)
            or n_tk + 2 > len(tk_ex)
        ):
            return n_l2, n_tr, n_tk, False
        if ist[S_STARTED] == 0:
            ist[S_STARTED] = 1
            n_l2, n_tk = _fresh_snapshot(
                rng, amounts, ist, fst, prm, l2_ex, l2_lo, l2_snap, l2_side, l2_px, l2_amt, n_l2,
                tk_ex, tk_lo, tk_bpx, tk_bq, tk_apx, tk_aq, n_tk,
            )  # fmt: skip
            continue
        recentre(amounts, ist)
        _advance(rng, ist, fst, prm)
        if ist[S_IN_GAP] == 0 and fst[F_T] >= fst[F_NEXT_RECON]:
            ist[S_IN_GAP] = 1
            fst[F_GAP_END] = fst[F_T] + rng.uniform(prm[P_GAP_MIN], prm[P_GAP_MAX])
        if ist[S_IN_GAP] == 1 and fst[F_T] >= fst[F_GAP_END]:
            ist[S_IN_GAP] = 0
            n_l2, n_tk = _fresh_snapshot(
                rng, amounts, ist, fst, prm, l2_ex, l2_lo, l2_snap, l2_side, l2_px, l2_amt, n_l2,
                tk_ex, tk_lo, tk_bpx, tk_bq, tk_apx, tk_aq, n_tk,
            )  # fmt: skip
            continue
        emit = ist[S_IN_GAP] == 0
        nt = 0
        mispricing = abs(ist[S_REF] - ist[S_BASE] + 0.5 - 0.5 * (ist[S_BB] + ist[S_BA]))
        p_trade = prm[P_TRADE_PROB] + min(0.3, 0.08 * max(0.0, mispricing - 1.0))
        if rng.random() < p_trade:
            n_tr, nt = _taker(
                rng, amounts, ist, fst, prm, emit, tr_ex, tr_lo, tr_id, tr_side, tr_px, tr_amt, n_tr, touched
            )
            # The book message that shows the trade follows within a couple of milliseconds.
            fst[F_T] += rng.uniform(0.0, 2000.0)
            n_ops = int(rng.exponential(1.0))
        else:
            n_ops = 1 + int(rng.exponential(prm[P_OPS_MEAN] - 1.0))
        for _ in range(n_ops):
            if nt >= max_rows - 5:  # room for the touch, deep and far-end events below
                break
            nt = _op_near(rng, amounts, ist, prm, int(rng.random() < 0.5), touched, nt)
        for side in range(2):
            if rng.random() < prm[P_IMPROVE_PROB]:
                nt = _op_touch(rng, amounts, ist, prm, side, touched, nt)
        if rng.random() < prm[P_DEEP_PROB]:
            nt = _op_deep(rng, amounts, ist, prm, int(rng.random() < 0.5), touched, nt)
        for side in range(2):
            excess = abs((ist[S_NB] if side == 0 else ist[S_NA]) - prm[P_LEVELS])
            if rng.random() < prm[P_MAINT_PROB] * min(1.0, excess / 10.0):
                nt = _op_maintain(rng, amounts, ist, prm, side, touched, nt)
        if nt == 0 or not emit:
            continue
        t = fst[F_T]
        lo = next_local(rng, ist, fst, prm, t)
        ex = exchange_ms(t)
        n_l2 = emit_message(
            amounts, ist, lo, ex, touched, nt, l2_ex, l2_lo, l2_snap, l2_side, l2_px, l2_amt, n_l2
        )
        n_tk = emit_ticker(amounts, ist, ex, lo, tk_ex, tk_lo, tk_bpx, tk_bq, tk_apx, tk_aq, n_tk)
