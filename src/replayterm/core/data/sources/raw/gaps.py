"""Sequence gaps found in a raw recording, and where the book was not trustworthy because of them.

A gap opens at the first message whose sequence numbers do not follow the previous one (or at the
first update when the recording has no snapshot, or when the snapshot does not overlap the
stream); it closes at the snapshot that re-syncs the book. Between the two the book is
*unreliable*: the ladder greys it, strategies see it in their context and the simulated exchange
does not fill against it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class SequenceGap:
    exchange: str
    symbol: str
    start_ts: int  # local time of the message where the break was seen (µs)
    last_good_ts: int | None  # local time of the last message that was in sequence
    end_ts: int | None  # local time of the snapshot that re-synced the book; None: never
    reason: str  # what did not match, in the exchange's own terms
    recovery: str  # how the book recovered (or that it did not)

    def duration_us(self, data_end: int | None = None) -> int | None:
        end = self.end_ts if self.end_ts is not None else data_end
        return None if end is None else max(end - self.start_ts, 0)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SequenceGap:
        return cls(**d)


def unreliable_spans(gaps: list[SequenceGap], data_end: int) -> list[tuple[int, int]]:
    """``[start, end)`` local-time spans during which the book is not trustworthy."""
    return [(g.start_ts, g.end_ts if g.end_ts is not None else data_end + 1) for g in gaps]


def describe(gap: SequenceGap, data_end: int | None = None) -> str:
    dur = gap.duration_us(data_end)
    length = f"{(dur or 0) / 1e6:.3f} s"
    if gap.end_ts is None:
        length += " to the end of the recording"
    return (
        f"{gap.exchange} {gap.symbol}: gap at {utc_text(gap.start_ts)} ({length}): {gap.reason}; "
        f"{gap.recovery}"
    )


def utc_text(us: int) -> str:
    """``2024-07-18 23:58:01.123456`` (UTC) for a time in µs."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(us / 1e6, tz=UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
