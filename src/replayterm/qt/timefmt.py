"""Formatting and parsing of replay times (int64 µs since the Unix epoch, UTC) for the GUI."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

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


def parse_time(text: str, reference_us: int | None = None, span: tuple[int, int] | None = None) -> int:
    """Parse user input into µs since the epoch (UTC); see :func:`parse_time_explained`."""
    return parse_time_explained(text, reference_us, span)[0]


def parse_time_explained(
    text: str, reference_us: int | None = None, span: tuple[int, int] | None = None
) -> tuple[int, str]:
    """Parse user input into µs since the epoch (UTC), with a note when a choice was made.

    Accepted: an integer (µs since the epoch), an ISO-8601 date-time (naive means UTC; an offset is
    converted to UTC; ``Z`` allowed; up to microsecond precision), a date alone (midnight UTC), or a
    time of day ``HH:MM[:SS[.ffffff]]``. A time of day is taken on the one date of the data
    (``span``) where it falls; when it falls on several, on the current replay date
    (``reference_us``) and the note says so; when it falls on none, on the current date.
    Raises ValueError with a message meant for the user.
    """
    s = text.strip()
    if not s:
        raise ValueError("Enter a time: ISO-8601 UTC (2024-07-18T12:34:56.789Z) or integer microseconds.")
    if _TIME_OF_DAY_RE.fullmatch(s):
        if reference_us is None:
            raise ValueError(f"'{s}' is a time of day; give a full date too (e.g. 2024-07-18T{s}).")
        return _resolve_time_of_day(s, reference_us, span)
    try:
        return core_parse_time(s), ""  # integers, ISO-8601 with Z / UTC / offsets, a date alone
    except ValueError:
        raise _not_a_time(text) from None


def _not_a_time(text: str) -> ValueError:
    return ValueError(
        f"'{text.strip()}' is not a time. Use ISO-8601 UTC such as 2024-07-18T12:34:56.789Z, "
        "a time of day such as 12:34:56.5, or integer microseconds since the epoch."
    )


def _on_date(day: date, time_of_day: str) -> int:
    try:
        return core_parse_time(f"{day.isoformat()}T{time_of_day}")
    except ValueError:
        raise _not_a_time(time_of_day) from None


def _resolve_time_of_day(
    time_of_day: str, reference_us: int, span: tuple[int, int] | None
) -> tuple[int, str]:
    today = to_datetime(reference_us).date()
    current = _on_date(today, time_of_day)
    if span is None or span[1] < span[0]:
        return current, ""
    first, last = to_datetime(span[0]).date(), to_datetime(span[1]).date()
    days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    inside = [(d, us) for d in days if span[0] <= (us := _on_date(d, time_of_day)) <= span[1]]
    if len(inside) == 1:
        return inside[0][1], ""
    if not inside or today in (d for d, _ in inside):
        note = ""
        if inside:
            note = (
                f"{time_of_day} falls on {len(inside)} dates of the data; "
                f"took the current date {today.isoformat()} (type a full date for another day)."
            )
        return current, note
    # several dates of the data, none of them today's: the nearest to the current time
    day, us = min(inside, key=lambda item: abs(item[1] - reference_us))
    return us, (
        f"{time_of_day} falls on {len(inside)} dates of the data; took {day.isoformat()}, "
        "the nearest to the current time (type a full date for another day)."
    )
