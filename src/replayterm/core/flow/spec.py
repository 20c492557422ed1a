"""What the user asks for, parsed: bar intervals (``1m``, ``100t``, ``10v``, ``1Mn``) and sessions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from replayterm.core.flow.groups import US

_TIME_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_MULT = {"": 1, "k": 1_000, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}
_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKMB]?)\s*(s|m|h|d|t|v|n)\s*$")
DAY_US = 86_400 * US


class SpecError(ValueError):
    pass


@dataclass(frozen=True)
class BarSpec:
    """``kind``: "time" (``size`` seconds), "tick" (trades), "volume" (base units), "notional"."""

    kind: str
    size: float
    text: str

    @property
    def is_time(self) -> bool:
        return self.kind == "time"

    @property
    def width_us(self) -> int:
        return int(self.size) * US


def parse_interval(text: str) -> BarSpec:
    m = _RE.match(text or "")
    if not m:
        raise SpecError(
            f"bad interval {text!r}: use a number and a unit — 1s/5m/1h/1d (time), 100t (trades), "
            "10v (volume), 1Mn (notional); k/M/B multiply tick, volume and notional sizes"
        )
    value, mult, unit = float(m.group(1)), m.group(2), m.group(3)
    if unit in _TIME_UNITS:
        if mult:
            raise SpecError(f"bad interval {text!r}: no multiplier on time units")
        seconds = value * _TIME_UNITS[unit]
        if seconds < 1 or seconds != int(seconds):
            raise SpecError(f"bad interval {text!r}: time bars are whole seconds, 1 s or more")
        if seconds > 86400 or (86400 % seconds and seconds % 86400):
            raise SpecError(f"bad interval {text!r}: time bars must divide a day (1s … 1d)")
        return BarSpec("time", int(seconds), text.strip())
    size = value * _MULT[mult]
    if size <= 0:
        raise SpecError(f"bad interval {text!r}: the size must be positive")
    kind = {"t": "tick", "v": "volume", "n": "notional"}[unit]
    if kind == "tick" and size != int(size):
        raise SpecError(f"bad interval {text!r}: a tick bar counts whole trades")
    return BarSpec(kind, size, text.strip())


@dataclass(frozen=True)
class Sessions:
    """Daily sessions: each starts at ``start_s`` seconds after UTC midnight and lasts
    ``length_s`` seconds (a whole day by default; user hours like 13:30-20:00 are shorter, and
    trades outside them belong to no session)."""

    start_s: int = 0
    length_s: int = 86400

    @property
    def offset_us(self) -> int:
        return self.start_s * US

    def session_of(self, ts: int) -> int:
        return (ts - self.offset_us) // DAY_US

    def start_of(self, session: int) -> int:
        return session * DAY_US + self.offset_us

    def end_of(self, session: int) -> int:
        """Last µs of the session."""
        return self.start_of(session) + self.length_s * US - 1

    @property
    def whole_day(self) -> bool:
        return self.length_s >= 86400


def _clock(text: str) -> int:
    m = re.match(r"^(\d{1,2}):(\d{2})$", text.strip())
    if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59:
        raise SpecError(f"bad session time {text!r}: use HH:MM (UTC)")
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60


def parse_sessions(text: str | None) -> Sessions:
    """``utc`` (or nothing): UTC days; ``HH:MM``: days starting then; ``HH:MM-HH:MM``: those hours."""
    if text is None or text.strip().lower() in ("", "utc", "day"):
        return Sessions()
    if "-" in text:
        a, b = text.split("-", 1)
        start, end = _clock(a), _clock(b)
        length = (end - start) % 86400 or 86400
        return Sessions(start % 86400, length)
    return Sessions(_clock(text) % 86400, 86400)
