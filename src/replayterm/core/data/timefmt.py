"""Conversions between user-facing time text and the core's int64 microseconds (UTC)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import numpy as np

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)

_ISO = re.compile(
    r"""^\s*
    (?P<date>\d{4}-\d{2}-\d{2})
    (?:[T\s](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?)?
    \s*(?P<tz>Z|z|UTC|[+-]\d{2}:?\d{2})?\s*$""",
    re.VERBOSE,
)


def parse_time(value: str | int | np.integer) -> int:
    """Microseconds since the epoch from an int (already µs) or text.

    Text may be an integer (µs) or ISO-8601 in UTC: ``2024-07-19``, ``2024-07-19 00:01``,
    ``2024-07-19T00:01:02.5Z``, ``2024-07-19T02:01:02+02:00``. Digits beyond microseconds are
    truncated. Raises ``ValueError`` with the accepted forms when the text is not understood.
    """
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | np.integer):
        return int(value)
    text = str(value).strip()
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    match = _ISO.match(text)
    if match is None:
        raise ValueError(
            f"not a time: {value!r}; use ISO-8601 UTC such as 2024-07-19T00:01:02.5Z or "
            "'2024-07-19 00:01', or integer microseconds since the epoch"
        )
    try:
        day = datetime.strptime(match["date"], "%Y-%m-%d").replace(tzinfo=UTC)
        moment = day + timedelta(
            hours=int(match["hour"] or 0),
            minutes=int(match["minute"] or 0),
            seconds=int(match["second"] or 0),
        )
        if int(match["hour"] or 0) > 23 or int(match["minute"] or 0) > 59 or int(match["second"] or 0) > 60:
            raise ValueError("field out of range")
    except ValueError as exc:
        raise ValueError(f"not a valid date/time: {value!r} ({exc})") from None
    frac = (match["frac"] or "").ljust(6, "0")[:6]
    micros = (moment - _EPOCH) // _ONE_US + int(frac or 0)
    tz = match["tz"]
    if tz and tz.upper() not in ("Z", "UTC"):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        micros -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60) * 1_000_000
    return int(micros)


def format_time(us: int | np.integer) -> str:
    """ISO-8601 UTC with microseconds and a ``Z``: ``2024-07-19T00:01:02.500000Z``."""
    moment = _EPOCH + timedelta(microseconds=int(us))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


TIME_OF_DAY = re.compile(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?")


def parse_time_in(value: str | int | np.integer, span: tuple[int, int]) -> int:
    """``parse_time``, and also a time of day ``HH:MM[:SS[.ffffff]]`` (UTC), taken on the date of
    the data (``span``, µs) on which it falls. A time of day that falls on several of its days is
    refused (ValueError naming them); one that falls on none is taken on the data's first day."""
    text = str(value).strip()
    if not TIME_OF_DAY.fullmatch(text):
        return parse_time(value)
    first = datetime.fromtimestamp(span[0] / 1e6, UTC).date()
    last = datetime.fromtimestamp(max(span) / 1e6, UTC).date()
    days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    hour, rest = text.split(":", 1)
    try:
        moments = [parse_time(f"{day.isoformat()}T{int(hour):02d}:{rest}Z") for day in days]
    except ValueError:
        raise ValueError(f"not a time of day: {text!r} (hours 0-23, minutes and seconds 0-59)") from None
    inside = [m for m in moments if span[0] <= m <= span[1]]
    if len(inside) > 1:
        shown = ", ".join(d.isoformat() for d, m in zip(days, moments, strict=True) if m in inside)
        raise ValueError(f"{text} falls on several days of the data ({shown}); give the date too")
    return inside[0] if inside else moments[0]
