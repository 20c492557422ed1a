"""Order latency on the replay axis: a documented constant default, and the ``feed`` model.

Two delays, both in µs on the replay (``local_ts``) axis:

- ``entry(ts)``: an order or cancel decided at ``ts`` meets the book as the replay shows it at
  ``ts + entry(ts)``.
- ``response(ts)``: what the exchange does at ``ts`` (ack, fill, cancel, reject) reaches the
  strategy at ``ts + response(ts)``.

Why a one-way network delay ``d`` becomes ``entry = 2d, response = 0``: the replayed book is
already the exchange's state of ``d`` earlier (the feed took ``d`` to arrive). An order sent at
local ``t`` reaches the exchange at exchange time ``t + d``; that state shows up in the data at
local ``t + 2d``. The fill notice leaves the exchange at the same moment as the market data
describing it and travels as long, so on the replay axis it arrives together with that data.

**Default** (``DEFAULT_ONE_WAY_US``): 20 ms each way, i.e. entry 40 ms, response 0 on the replay
axis. That is a retail connection to an exchange's cloud region from the same continent (a
few ms inside the region, 10-30 ms from a nearby country, ~100 ms across an ocean); never a
figure derived from timestamps, because local − exchange time on a real capture is dominated by
the recorder's clock offset (1.5 s *negative* on the shared Binance capture).

**Feed model** (``FeedLatency``): per moment, the base latency plus ``scale`` × the data's feed
delay above its running minimum: ``excess(t) = skew(t) − min(skew over the previous window)``
with ``skew = local_ts − exch_ts``. A constant clock offset is in both terms and cancels; what
remains is how much slower than its best the feed was at that moment (congestion, bursts), which
the order path is assumed to share. The excess is added to the entry latency (capped at
``max_excess_us``, counted as clipping); the response latency stays the base one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

# Bounds for a latency estimated from timestamps: below 1 ms the skew is timestamping noise, and a
# median above 200 ms says more about unsynchronised clocks than about the network.
DEFAULT_MIN_FEED_US = 1_000
DEFAULT_MAX_FEED_US = 200_000


class LatencyModel(Protocol):
    def entry(self, ts: int) -> int:
        """Delay from deciding at ``ts`` until the order meets the book (µs, >= 0)."""
        ...

    def response(self, ts: int) -> int:
        """Delay from the exchange acting at ``ts`` until the strategy hears of it (µs, >= 0)."""
        ...


@dataclass(frozen=True, slots=True)
class ConstantLatency:
    entry_us: int = 0
    response_us: int = 0

    def __post_init__(self) -> None:
        if self.entry_us < 0 or self.response_us < 0:
            raise ValueError(
                f"latencies must be >= 0 µs, got entry={self.entry_us}, response={self.response_us}"
            )

    def entry(self, ts: int) -> int:
        return self.entry_us

    def response(self, ts: int) -> int:
        return self.response_us


class SampledLatency:
    """Latency measured at times ``ts`` (e.g. from a live session), linearly interpolated in time.

    Before the first and after the last sample the nearest sample holds. Arrays must have equal
    length >= 1, ``ts`` non-decreasing, latencies >= 0.
    """

    def __init__(self, ts: np.ndarray, entry_us: np.ndarray, response_us: np.ndarray) -> None:
        t = np.asarray(ts, dtype=np.float64)
        e = np.asarray(entry_us, dtype=np.float64)
        r = np.asarray(response_us, dtype=np.float64)
        if t.ndim != 1 or t.shape != e.shape or t.shape != r.shape or t.shape[0] == 0:
            raise ValueError("ts, entry_us and response_us must be 1-D arrays of one non-zero length")
        if np.any(np.diff(t) < 0):
            raise ValueError("latency sample times must be non-decreasing")
        if not (np.all(np.isfinite(e)) and np.all(np.isfinite(r))) or np.any(e < 0) or np.any(r < 0):
            raise ValueError("latency samples must be finite and >= 0 µs")
        self._t, self._e, self._r = t, e, r

    def entry(self, ts: int) -> int:
        return round(float(np.interp(ts, self._t, self._e)))

    def response(self, ts: int) -> int:
        return round(float(np.interp(ts, self._t, self._r)))


class FunctionLatency:
    """Latency from two callables of the time (µs -> µs). They must be deterministic: no wall
    clock, and any randomness seeded from the settings, so that a rerun gives the same fills."""

    def __init__(self, entry: Callable[[int], int], response: Callable[[int], int]) -> None:
        self._entry, self._response = entry, response

    def entry(self, ts: int) -> int:
        return _checked(self._entry(ts), "entry", ts)

    def response(self, ts: int) -> int:
        return _checked(self._response(ts), "response", ts)


def _checked(value: float, what: str, ts: int) -> int:
    out = round(value)
    if out < 0:
        raise ValueError(f"{what} latency at {ts} is negative ({value})")
    return out


@dataclass(frozen=True, slots=True)
class FeedLatencyEstimate:
    """``latency_us``: the one-way delay to use. ``median_skew_us``: median of local − exchange time
    (negative when the receiver's clock is behind the exchange's, which no real delay can cause).
    ``clipped``: the median fell outside the sane range and was bounded."""

    latency_us: int
    median_skew_us: int
    samples: int
    clipped: bool

    @property
    def clock_behind(self) -> bool:
        return self.median_skew_us < 0


def estimate_feed_latency(
    local_ts: np.ndarray,
    exch_ts: np.ndarray,
    *,
    min_us: int = DEFAULT_MIN_FEED_US,
    max_us: int = DEFAULT_MAX_FEED_US,
) -> FeedLatencyEstimate:
    """One-way feed delay = median of |local_ts − exch_ts|, clipped to ``[min_us, max_us]``.

    Rows without a usable exchange time (``exch_ts <= 0``) or where it equals ``local_ts`` (sources
    that copy the receive time when the exchange sends none) are ignored. With no usable row the
    result is ``min_us``. The absolute value keeps a clock offset from turning into a negative
    delay; such an offset dominates the median, so the clip is what keeps it sane.
    """
    loc = np.asarray(local_ts, dtype=np.int64)
    exc = np.asarray(exch_ts, dtype=np.int64)
    if loc.shape != exc.shape:
        raise ValueError(f"local_ts and exch_ts differ in length ({loc.shape} vs {exc.shape})")
    if min_us < 0 or max_us < min_us:
        raise ValueError(f"need 0 <= min_us <= max_us, got {min_us}, {max_us}")
    usable = (exc > 0) & (exc != loc)
    skew = loc[usable] - exc[usable]
    if skew.shape[0] == 0:
        return FeedLatencyEstimate(min_us, 0, 0, True)
    median_abs = float(np.median(np.abs(skew)))
    latency = int(min(max(round(median_abs), min_us), max_us))
    return FeedLatencyEstimate(
        latency_us=latency,
        median_skew_us=round(float(np.median(skew))),
        samples=int(skew.shape[0]),
        clipped=latency != round(median_abs),
    )


def latency_from_feed(feed_us: int, order_us: int | None = None) -> ConstantLatency:
    """Replay-axis latency for a feed delay ``feed_us`` and a one-way order path ``order_us``
    (defaults to the feed delay): entry = order + feed, response = max(order − feed, 0).

    See the module docstring for why the feed delay moves from the response to the entry side.
    """
    order = feed_us if order_us is None else order_us
    if feed_us < 0 or order < 0:
        raise ValueError(f"delays must be >= 0 µs, got feed={feed_us}, order={order}")
    return ConstantLatency(entry_us=order + feed_us, response_us=max(order - feed_us, 0))


DEFAULT_ONE_WAY_US = 20_000


def default_latency() -> ConstantLatency:
    """The latency a session uses unless the user sets one: 20 ms each way (module docstring)."""
    return latency_from_feed(DEFAULT_ONE_WAY_US)


DEFAULT_FEED_WINDOW_US = 60_000_000
DEFAULT_FEED_MAX_EXCESS_US = 1_000_000
_WINDOW_STEPS = 8


def feed_excess(local_ts: np.ndarray, exch_ts: np.ndarray, window_us: int) -> tuple[np.ndarray, np.ndarray]:
    """(times, excess µs): per row with a usable exchange time, ``skew − running minimum``.

    The running minimum is taken over the previous ``window_us`` in eighths of the window (the
    rows of the last 8 complete eighths, and the row itself), so it uses only the past and costs
    a few vectorised passes. Rows without an exchange time (``<= 0``) or with one equal to the
    receive time (sources that copy it) are left out.
    """
    loc = np.asarray(local_ts, dtype=np.int64)
    exc = np.asarray(exch_ts, dtype=np.int64)
    if loc.shape != exc.shape:
        raise ValueError(f"local_ts and exch_ts differ in length ({loc.shape} vs {exc.shape})")
    if window_us <= 0:
        raise ValueError(f"the feed window must be > 0 µs, got {window_us}")
    usable = (exc > 0) & (exc != loc)
    t, skew = loc[usable], loc[usable] - exc[usable]
    if t.shape[0] == 0:
        return t, skew
    step = max(window_us // _WINDOW_STEPS, 1)
    bucket = (t - t[0]) // step
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ids = bucket[starts]
    mins = np.minimum.reduceat(skew, starts)
    # Dense per-bucket minima (empty buckets hold +inf), then the min over the 8 buckets before.
    dense = np.full(int(ids[-1]) + 1 + _WINDOW_STEPS, np.iinfo(np.int64).max, dtype=np.int64)
    dense[ids + _WINDOW_STEPS] = mins
    windows = np.lib.stride_tricks.sliding_window_view(dense, _WINDOW_STEPS)
    previous = windows.min(axis=1)[: int(ids[-1]) + 1]
    floor = np.minimum(previous[bucket], skew)
    return t, skew - floor


@dataclass(frozen=True, slots=True)
class FeedLatencyReport:
    """What the feed model did on one instrument's data (all µs)."""

    samples: int
    median_skew_us: int
    min_skew_us: int
    excess_p50_us: int
    excess_p99_us: int
    excess_max_us: int
    clipped: int  # moments whose excess was above the cap


class FeedLatency:
    """``entry(t) = base_entry + min(scale × excess(t), max_excess)``, ``response = base_response``,
    with ``excess(t)`` the feed excess of the last row at or before ``t`` (0 before the first)."""

    def __init__(
        self,
        local_ts: np.ndarray,
        exch_ts: np.ndarray,
        *,
        base: ConstantLatency | None = None,
        scale: float = 1.0,
        window_us: int = DEFAULT_FEED_WINDOW_US,
        max_excess_us: int = DEFAULT_FEED_MAX_EXCESS_US,
    ) -> None:
        if not (np.isfinite(scale) and scale >= 0):
            raise ValueError(f"feed scale must be a finite number >= 0, got {scale!r}")
        if max_excess_us < 0:
            raise ValueError(f"the feed latency cap must be >= 0 µs, got {max_excess_us}")
        self.base = base if base is not None else default_latency()
        self.scale = float(scale)
        self.window_us = int(window_us)
        self.max_excess_us = int(max_excess_us)
        t, excess = feed_excess(local_ts, exch_ts, window_us)
        extra = np.rint(excess.astype(np.float64) * self.scale)
        clipped = int(np.count_nonzero(extra > self.max_excess_us))
        self._t = t
        self._extra = np.minimum(extra, self.max_excess_us).astype(np.int64)
        loc = np.asarray(local_ts, dtype=np.int64)
        exc = np.asarray(exch_ts, dtype=np.int64)
        usable = (exc > 0) & (exc != loc)
        skew = loc[usable] - exc[usable]
        n = int(t.shape[0])
        self.report = FeedLatencyReport(
            samples=n,
            median_skew_us=int(np.median(skew)) if n else 0,
            min_skew_us=int(skew.min()) if n else 0,
            excess_p50_us=int(np.percentile(excess, 50)) if n else 0,
            excess_p99_us=int(np.percentile(excess, 99)) if n else 0,
            excess_max_us=int(excess.max()) if n else 0,
            clipped=clipped,
        )

    def entry(self, ts: int) -> int:
        i = int(np.searchsorted(self._t, ts, side="right")) - 1
        return self.base.entry_us + (int(self._extra[i]) if i >= 0 else 0)

    def response(self, ts: int) -> int:
        return self.base.response_us

    def entry_percentiles(self) -> dict[str, int]:
        """Entry latency over the data's moments: p50, p99, max (µs)."""
        if self._extra.shape[0] == 0:
            e = self.base.entry_us
            return {"p50": e, "p99": e, "max": e}
        extra = self._extra
        return {
            "p50": self.base.entry_us + int(np.percentile(extra, 50)),
            "p99": self.base.entry_us + int(np.percentile(extra, 99)),
            "max": self.base.entry_us + int(extra.max()),
        }


def clock_warnings(name: str, local_ts: np.ndarray, exch_ts: np.ndarray) -> list[str]:
    """What the data's local-vs-exchange skew says about the recorder's clock (never used as a
    latency): a negative median is a clock behind the exchange's, a median above 1 s a clock
    ahead or a very slow feed."""
    loc = np.asarray(local_ts, dtype=np.int64)
    exc = np.asarray(exch_ts, dtype=np.int64)
    usable = (exc > 0) & (exc != loc)
    if not np.any(usable):
        return []
    median = float(np.median(loc[usable] - exc[usable]))
    if median < 0:
        return [
            f"{name}: receive times are {-median / 1000:,.1f} ms behind exchange times (median): the "
            "recorder's clock was behind the exchange's; that offset is not a latency and is not used"
        ]
    if median > 1_000_000:
        return [
            f"{name}: receive times are {median / 1000:,.1f} ms after exchange times (median): most "
            "likely a clock offset, not a latency; it is not used"
        ]
    return []
