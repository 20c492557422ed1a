"""Numpy helpers that turn buffered series into what a curve draws: only the visible slice,
decimated to the pixel width (min/max per pixel, so spikes survive), as hold-forward steps."""

from __future__ import annotations

import numpy as np


def visible_slice(t: np.ndarray, x0: float, x1: float) -> slice:
    """Indices of ``t`` (sorted) inside [x0, x1], widened by one sample each side so a step
    curve enters the view from its left edge and leaves at the right."""
    i0 = int(np.searchsorted(t, x0, side="left"))
    i1 = int(np.searchsorted(t, x1, side="right"))
    return slice(max(i0 - 1, 0), min(i1 + 1, t.shape[0]))


def decimate_minmax(x: np.ndarray, ys: list[np.ndarray], bins: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Keep at most ``2 * bins`` points: per time bin, the min then the max of each series.

    Bins are equal in time (the samples are not evenly spaced); NaNs are ignored unless a bin
    has nothing else.
    """
    n = x.shape[0]
    if n <= 2 * bins or n < 2:
        return x, ys
    span = float(x[-1] - x[0])
    if span <= 0:
        return x[-2:], [y[-2:] for y in ys]
    b = ((x - x[0]) * ((bins - 1) / span)).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
    ends = np.r_[starts[1:], n] - 1
    xo = np.empty(2 * starts.size)
    xo[0::2] = x[starts]
    xo[1::2] = x[ends]
    out = []
    for y in ys:
        with np.errstate(invalid="ignore"):
            lo = np.fmin.reduceat(y, starts)
            hi = np.fmax.reduceat(y, starts)
        yo = np.empty(2 * starts.size)
        # keep the direction of travel: a falling bin draws max then min
        falling = y[ends] < y[starts]
        yo[0::2] = np.where(falling, hi, lo)
        yo[1::2] = np.where(falling, lo, hi)
        out.append(yo)
    return xo, out


def step_xy(x: np.ndarray, y: np.ndarray, until: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Hold-forward step curve: each value holds until the next sample (and up to ``until``)."""
    n = x.shape[0]
    if n == 0:
        return x, y
    extra = 1 if until is not None and until > x[-1] else 0
    xs = np.empty(2 * n - 1 + extra)
    ys = np.empty(2 * n - 1 + extra)
    xs[0::2][:n] = x
    xs[1::2][: n - 1] = x[1:]
    ys[0::2][:n] = y
    ys[1::2][: n - 1] = y[:-1]
    if extra:
        xs[-1] = until
        ys[-1] = y[-1]
    return xs, ys


def dot_sizes(amount: np.ndarray, small: float = 3.0, large: float = 14.0) -> np.ndarray:
    """Marker diameters in pixels: sqrt-scaled against the 99th percentile, a few distinct sizes
    (pyqtgraph caches one symbol pixmap per size)."""
    if amount.size == 0:
        return np.empty(0)
    ref = quantile(amount, 0.99) or float(amount.max()) or 1.0
    frac = np.sqrt(np.clip(amount / ref, 0.0, 1.0))
    return np.rint(small + (large - small) * frac)


def quantile(values: np.ndarray, q: float) -> float:
    """``np.quantile(values, q)`` (linear interpolation) by partial sort, a few times cheaper."""
    n = values.shape[0]
    pos = q * (n - 1)
    lo = int(pos)
    hi = min(lo + 1, n - 1)
    part = np.partition(values, (lo, hi))
    return float(part[lo] + (pos - lo) * (part[hi] - part[lo]))


def largest(amount: np.ndarray, k: int) -> np.ndarray:
    """Indices (time order) of the ``k`` largest amounts, or all if there are fewer."""
    if amount.shape[0] <= k:
        return np.arange(amount.shape[0])
    idx = np.argpartition(amount, -k)[-k:]
    idx.sort()
    return idx


def bars(x: np.ndarray, y: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Vertical bars from 0 to y as segment pairs (for ``connect="pairs"``): positive, negative."""
    out = []
    for keep in (y > 0, y < 0):
        xb, yb = x[keep], y[keep]
        xs = np.repeat(xb, 2)
        ys = np.zeros(2 * yb.shape[0])
        ys[1::2] = yb
        out.append((xs, ys))
    return out[0], out[1]


def aggregate_prints(
    t: np.ndarray, price: np.ndarray, amount: np.ndarray, side: np.ndarray, bin_width: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sum prints sharing a time bin, a side and a price (one marker each, at the bin center).

    Bins are absolute (multiples of ``bin_width``), so markers do not jitter while the view scrolls.
    """
    n = t.shape[0]
    if n == 0 or not bin_width > 0:
        return t, price, amount, side
    b = np.floor(t / bin_width).astype(np.int64)
    order = np.lexsort((price, side, b))
    b, s, p, a = b[order], side[order], price[order], amount[order]
    brk = np.ones(n, dtype=bool)
    brk[1:] = (b[1:] != b[:-1]) | (s[1:] != s[:-1]) | (p[1:] != p[:-1])
    starts = np.flatnonzero(brk)
    return (b[starts] + 0.5) * bin_width, p[starts], np.add.reduceat(a, starts), s[starts]
