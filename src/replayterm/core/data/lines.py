"""Physical line numbers for data rows, counted the way the CSV parser counts rows.

The parser skips empty lines (``\\n`` or ``\\r\\n`` alone), so data row ``r`` is the
``r + 2``-th non-empty line (the header is the first). Only used to describe problems, so a
second pass over the text is acceptable; it only counts newlines in chunks without empty lines
(nearly all of a Tardis file) and looks at single bytes only where it must.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

_NL = 10
_CR = 13


def _scan(chunk: bytes, line: int, carried: bool) -> tuple[np.ndarray, int, bool]:
    """Numbers of the non-empty lines that end in ``chunk``, given the physical number of the
    line its first byte belongs to and whether that line already has content; plus both again
    for the byte after the chunk."""
    data = np.frombuffer(chunk, np.uint8)
    newlines = np.flatnonzero(data == _NL)
    content = np.concatenate(([0], np.cumsum((data != _NL) & (data != _CR), dtype=np.int64)))
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [data.size]))
    per_segment = content[ends] - content[starts]
    complete = per_segment[:-1] > 0
    if complete.size:
        complete[0] |= carried
        numbers = line + np.flatnonzero(complete)
        carried = bool(per_segment[-1] > 0)
    else:
        numbers = np.zeros(0, np.int64)
        carried = carried or bool(per_segment[-1] > 0)
    return numbers, line + newlines.size, carried


def _plain(chunk: bytes, carried: bool) -> bool:
    """Every newline in ``chunk`` ends a non-empty line (no empty or CR-only line ends here)."""
    if b"\n\n" in chunk or b"\n\r" in chunk:
        return False
    return carried or not chunk.startswith((b"\n", b"\r"))


def nonempty_line_numbers(chunks: Iterable[bytes], stop_after: int | None = None) -> np.ndarray:
    """1-based physical numbers of the non-empty lines, at least up to the ``stop_after``-th one."""
    found: list[np.ndarray] = []
    count = 0
    line = 1  # physical number of the line the next byte belongs to
    carried = False  # the current, unfinished line already has content
    for chunk in chunks:
        if not chunk:
            continue
        numbers, line, carried = _scan(chunk, line, carried)
        found.append(numbers)
        count += numbers.size
        if stop_after is not None and count >= stop_after:
            break
    else:
        if carried:
            found.append(np.array([line]))
    return np.concatenate(found) if found else np.zeros(0, np.int64)


def line_of_row(chunks: Iterable[bytes], row: int) -> int | None:
    """Physical line of 0-based data row ``row`` (header excluded), or None past the end."""
    wanted = row + 2  # the wanted-th non-empty line
    count = 0
    line = 1
    carried = False
    for chunk in chunks:
        if not chunk:
            continue
        newlines = chunk.count(b"\n")
        if count + newlines < wanted and _plain(chunk, carried):
            # Each newline ends a non-empty line; only the tail's content decides ``carried``.
            count += newlines
            line += newlines
            tail = chunk[chunk.rfind(b"\n") + 1 :] if newlines else chunk
            carried = (carried and not newlines) or bool(tail.strip(b"\r"))
            continue
        numbers, line, carried = _scan(chunk, line, carried)
        if count + numbers.size >= wanted:
            return int(numbers[wanted - count - 1])
        count += numbers.size
    if carried and count + 1 == wanted:
        return line
    return None
