"""Decoded text in blocks of whole lines, read straight into a few rotating buffers.

``line_blocks`` reads a binary stream with ``readinto`` and yields numpy views that start at a
line start and end with ``\\n``: the bytes after the last newline of a read are copied to the
front of the next buffer and completed by the next read. A last line without a line end gets
one. With ``buffers=k`` a view stays valid while the next ``k - 1`` are handed out, so up to
``k - 1`` blocks can be parsed in other threads while the next one is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from replayterm.core.errors import DataError

NEWLINE = 10
MAX_LINE = 64 << 20


class LineTooLongError(Exception):
    """No line end within ``MAX_LINE`` bytes."""


def _last_newline(buf: np.ndarray, end: int) -> int:
    """Index of the last ``\\n`` in ``buf[:end]``, or -1."""
    step = 1 << 12
    stop = end
    while stop > 0:
        start = max(0, stop - step)
        found = np.flatnonzero(buf[start:stop] == NEWLINE)
        if found.size:
            return start + int(found[-1])
        stop = start
        step *= 4
    return -1


def line_blocks(
    stream: Any, block_size: int, buffers: int = 1, skip_first_line: bool = True
) -> Iterator[np.ndarray]:
    """Blocks of whole lines (about ``block_size`` bytes) from ``stream`` (``readinto``)."""
    pool = [np.empty(0, np.uint8) for _ in range(max(buffers, 1))]
    turn = 0
    previous: np.ndarray | None = None
    kept = 0  # bytes of an unfinished line, at ``previous[tail:tail + kept]``
    tail = 0
    skipping = skip_first_line
    while True:
        buf = pool[turn]
        if buf.size < kept + block_size:
            if kept > MAX_LINE:
                raise LineTooLongError(kept)
            buf = pool[turn] = np.empty(kept + block_size + (1 << 16), np.uint8)
        if kept and (previous is not buf or tail):
            assert previous is not None
            buf[:kept] = previous[tail : tail + kept]
        got = stream.readinto(buf.data[kept : kept + block_size])
        if not got:
            if kept and not skipping:
                buf[kept] = NEWLINE
                yield buf[: kept + 1]
            return
        end = kept + got
        cut = _last_newline(buf, end)
        if cut < 0:  # no line end yet: keep everything in this buffer, read more behind it
            previous, tail, kept = buf, 0, end
            continue
        start = 0
        if skipping:
            start = int(np.argmax(buf[:end] == NEWLINE)) + 1
            skipping = False
        if cut + 1 > start:
            yield buf[start : cut + 1]
        previous, tail, kept = buf, cut + 1, end - cut - 1
        turn = (turn + 1) % len(pool)


def too_long_error(path: Path, line: int | None) -> DataError:
    return DataError(
        path,
        "a line is longer than 64 MB: this does not look like a Tardis CSV file",
        line=line,
        hint="Check that the file is a complete, uncorrupted CSV",
    )
