"""Order latency on the replay axis, and a default estimated from the data.

Two delays, both in µs on the replay (``local_ts``) axis:

- ``entry(ts)``: an order or cancel decided at ``ts`` meets the book as the replay shows it at
  ``ts + entry(ts)``.
- ``response(ts)``: what the exchange does at ``ts`` (ack, fill, cancel, reject) reaches the
  strategy at ``ts + response(ts)``.

Why the default is ``entry = 2d, response = 0`` for a one-way network delay ``d``: the replayed
book is already the exchange's state of ``d`` earlier (the feed took ``d`` to arrive). An order
sent at local ``t`` reaches the exchange at exchange time ``t + d``; that state shows up in the
data at local ``t + 2d``. The fill notice leaves the exchange at the same moment as the market
data describing it and travels as long, so on the replay axis it arrives together with that data.
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


def default_latency(local_ts: np.ndarray, exch_ts: np.ndarray) -> ConstantLatency:
    """The latency a session uses unless the user sets one: symmetric network, delay from the data."""
    return latency_from_feed(estimate_feed_latency(local_ts, exch_ts).latency_us)
