"""Numbers as text without losing digits: prices and sizes print as the data holds them.

``%g`` keeps 6 significant digits (104523.45 -> 104523, 1.234567 -> 1.23457), which is wrong
for a market-data tool. Values read from a file print as the shortest text that reads back to
the same float; values computed from them (mid, spread) are first rounded to the precision of
their inputs, so float noise (0.010000000009313226) never shows.
"""

from __future__ import annotations

import math

import numpy as np


def plain(x: float) -> str:
    """Shortest round-trip text of ``x``, never in exponent notation ("nan"/"inf" as such)."""
    if not math.isfinite(x):
        return str(x)
    return str(np.format_float_positional(x, trim="-"))


def decimals(x: float) -> int:
    """Digits after the decimal point in ``plain(x)``."""
    text = plain(x)
    return len(text) - text.index(".") - 1 if "." in text else 0


def derived(x: float, *inputs: float, extra: int = 0) -> float:
    """``x`` computed from ``inputs``, rounded to their finest precision plus ``extra`` digits."""
    if not math.isfinite(x):
        return x
    places = max((decimals(v) for v in inputs if math.isfinite(v)), default=12) + extra
    return round(x, places)
