"""Number formatting shared by the ladder, the tape and the panels."""

from __future__ import annotations

import math


def price_decimals(step: float) -> int:
    """Decimals needed to show multiples of ``step`` exactly (0.25 -> 2, 0.1 -> 1, 5 -> 0)."""
    if not math.isfinite(step) or step <= 0:
        return 2
    text = f"{step:.10f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def format_size(v: float, decimals: int = -1) -> str:
    """Right-alignable size. With the instrument's size ``decimals`` (3 for 0.001 lots) every
    size shows exactly that many: ``46.372``, ``0.005``, ``1,234.500``. Without them (-1), a
    compact form: ``0.012``, ``1.500``, ``12.5``, ``1,234``. From 10 million up: ``12.3M``."""
    if not math.isfinite(v):
        return ""
    a = abs(v)
    if a >= 10_000_000:
        return f"{v / 1e6:,.1f}M"
    if decimals >= 0:
        return f"{v:,.{decimals}f}"
    if a >= 1_000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 10:
        return f"{v:.2f}"
    return f"{v:.3f}"


def format_rate(per_s: float) -> str:
    if not math.isfinite(per_s) or per_s <= 0:
        return "0"
    if per_s >= 1e6:
        return f"{per_s / 1e6:.2f}M"
    if per_s >= 1e3:
        return f"{per_s / 1e3:.1f}k"
    return f"{per_s:.0f}"


def format_speed(speed: float) -> str:
    if math.isinf(speed):
        return "Max"
    return f"{speed:g}×"
