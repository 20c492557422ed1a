"""Physical line numbers for data rows, counted the way the CSV parser counts rows.

The parser skips empty lines (``\\n`` or ``\\r\\n`` alone), so data row ``r`` is the
``r + 2``-th non-empty line (the header is the first). Only used to describe problems, so a
second pass over the text is acceptable.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

_NL = 10
_CR = 13


def nonempty_line_numbers(chunks: Iterable[bytes], stop_after: int | None = None) -> np.ndarray:
    """1-based physical numbers of the non-empty lines, at least up to the ``stop_after``-th one."""
    found: list[np.ndarray] = []
    count = 0
    line = 1  # physical number of the line the next byte belongs to
    carried = False  # the current, unfinished line already has content
    for chunk in chunks:
        data = np.frombuffer(chunk, np.uint8)
        if data.size == 0:
            continue
        newlines = np.flatnonzero(data == _NL)
        content = np.concatenate(([0], np.cumsum((data != _NL) & (data != _CR), dtype=np.int64)))
        starts = np.concatenate(([0], newlines + 1))
        ends = np.concatenate((newlines, [data.size]))
        per_segment = content[ends] - content[starts]
        complete = per_segment[:-1] > 0
        if complete.size:
            complete[0] |= carried
            numbers = line + np.flatnonzero(complete)
            found.append(numbers)
            count += numbers.size
            carried = bool(per_segment[-1] > 0)
        else:
            carried = carried or bool(per_segment[-1] > 0)
        line += newlines.size
        if stop_after is not None and count >= stop_after:
            break
    else:
        if carried:
            found.append(np.array([line]))
    return np.concatenate(found) if found else np.zeros(0, np.int64)


def line_of_row(chunks: Iterable[bytes], row: int) -> int | None:
    """Physical line of 0-based data row ``row`` (header excluded), or None past the end."""
    numbers = nonempty_line_numbers(chunks, stop_after=row + 2)
    return int(numbers[row + 1]) if numbers.size > row + 1 else None
