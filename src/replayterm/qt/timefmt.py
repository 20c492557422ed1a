"""Formatting and parsing of replay times (int64 µs since the Unix epoch, UTC) for the GUI."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from replayterm.core.data.timefmt import parse_time as core_parse_time

US_PER_S = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TIME_OF_DAY_RE = re.compile(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?")


def to_datetime(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


def format_utc(us: int, *, date: bool = True) -> str:
    """``2024-07-18 12:34:56.789`` (UTC, millisecond precision)."""
    dt = to_datetime(us)
    base = dt.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S")
    return f"{base}.{dt.microsecond // 1000:03d}"


def format_iso(us: int) -> str:
    """ISO-8601 with microseconds and a ``Z`` suffix: the form :func:`parse_time` reads back."""
    return to_datetime(us).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_time_of_day(us: int) -> str:
    """``12:34:56.789``; integer arithmetic only, it runs for every visible tape row."""
    seconds, frac = divmod(int(us), US_PER_S)
    seconds %= 86_400
    hours, rem = divmod(seconds, 3600)
    minutes, secs = divmod(rem, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{frac // 1000:03d}"


def format_duration(us: float) -> str:
    """Short human duration: ``850 µs``, ``12 ms``, ``3.4 s``, ``2 min 5 s``."""
    us = abs(float(us))
    if us < 1_000:
        return f"{us:.0f} µs"
    if us < US_PER_S:
        return f"{us / 1_000:.0f} ms"
    if us < 60 * US_PER_S:
        return f"{us / US_PER_S:.1f} s"
    minutes, secs = divmod(int(us // US_PER_S), 60)
    return f"{minutes} min {secs} s"


def parse_time(text: str, reference_us: int | None = None) -> int:
    """Parse user input into µs since the epoch (UTC).

    Accepted: an integer (µs since the epoch), an ISO-8601 date-time (naive means UTC; an offset is
    converted to UTC; ``Z`` allowed; up to microsecond precision), a date alone (midnight UTC), or a
    time of day ``HH:MM[:SS[.ffffff]]`` taken on the UTC date of ``reference_us``.
    Raises ValueError with a message meant for the user.
    """
    s = text.strip()
    if not s:
        raise ValueError("Enter a time: ISO-8601 UTC (2024-07-18T12:34:56.789Z) or integer microseconds.")
    if _TIME_OF_DAY_RE.fullmatch(s):
        if reference_us is None:
            raise ValueError(f"'{s}' is a time of day; give a full date too (e.g. 2024-07-18T{s}).")
        s = f"{to_datetime(reference_us).date().isoformat()}T{s}"
    try:
        return core_parse_time(s)  # integers, ISO-8601 with Z / UTC / offsets, a date alone
    except ValueError:
        raise ValueError(
            f"'{text.strip()}' is not a time. Use ISO-8601 UTC such as 2024-07-18T12:34:56.789Z, "
            "a time of day such as 12:34:56.5, or integer microseconds since the epoch."
        ) from None
