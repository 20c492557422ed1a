"""Per-fill markouts: how far the mid moved in the fill's favour after a horizon.

``markout(fill, h) = side × (mid(ts + h) − ref)``, with ``mid(x)`` the last mid sample at or
before ``x`` and ``ref`` either the mid just before the fill (``reference="mid"``: the last mid
sample strictly before the fill's time, so the move of the event that caused the fill — a book
message moving through a resting order — counts in the markout instead of hiding in the
reference) or the fill price (``reference="price"``: the move plus the spread earned or paid). Positive
means the market went our way (up after a buy, down after a sell). A fill gets NaN at a horizon
that reaches past the last mid sample, or when there is no mid at or before the fill.
"""

from __future__ import annotations

import math

import numpy as np

from replayterm.core.metrics.fills import FillTable

DEFAULT_HORIZONS_US: tuple[int, ...] = (100_000, 1_000_000, 10_000_000)


def asof(sample_ts: np.ndarray, values: np.ndarray, query_ts: np.ndarray) -> np.ndarray:
    """``values`` at the last sample with ``sample_ts <= query``; NaN before the first sample."""
    idx = np.searchsorted(sample_ts, query_ts, side="right") - 1
    out = np.full(idx.shape[0], math.nan)
    ok = idx >= 0
    out[ok] = values[idx[ok]]
    return out


def markouts(
    fills: FillTable,
    mid_ts: np.ndarray,
    mid: np.ndarray,
    horizons_us: tuple[int, ...] = DEFAULT_HORIZONS_US,
    reference: str = "mid",
) -> np.ndarray:
    """Markouts in price units, shape (fills, horizons)."""
    if reference not in ("mid", "price"):
        raise ValueError(f"reference must be 'mid' or 'price', got {reference!r}")
    mt = np.asarray(mid_ts, dtype=np.int64)
    mv = np.asarray(mid, dtype=np.float64)
    if mt.shape != mv.shape:
        raise ValueError(f"mid_ts and mid differ in shape ({mt.shape} vs {mv.shape})")
    out = np.full((len(fills), len(horizons_us)), math.nan)
    if len(fills) == 0 or mt.shape[0] == 0:
        return out
    ref = asof(mt, mv, fills.ts - 1) if reference == "mid" else fills.price
    side = fills.side.astype(np.float64)
    for k, h in enumerate(horizons_us):
        at = fills.ts + int(h)
        later = asof(mt, mv, at)
        later[at > mt[-1]] = math.nan
        out[:, k] = side * (later - ref)
    return out


def markouts_bps(
    fills: FillTable,
    mid_ts: np.ndarray,
    mid: np.ndarray,
    horizons_us: tuple[int, ...] = DEFAULT_HORIZONS_US,
    reference: str = "mid",
) -> np.ndarray:
    """``markouts`` divided by the fill price, in basis points."""
    return markouts(fills, mid_ts, mid, horizons_us, reference) / fills.price[:, None] * 1e4


def horizon_label(us: int) -> str:
    """100000 -> '100ms', 1000000 -> '1s', 2500 -> '2500us'."""
    if us % 1_000_000 == 0:
        return f"{us // 1_000_000}s"
    if us % 1_000 == 0:
        return f"{us // 1_000}ms"
    return f"{us}us"
