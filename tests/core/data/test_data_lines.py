"""Line numbers of data rows: the counting fast path agrees with a byte-by-byte reference."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from replayterm.core.data.lines import line_of_row, nonempty_line_numbers


def _reference(text: bytes) -> list[int]:
    """Physical numbers of lines holding something other than CR (the parser skips the others)."""
    return [i + 1 for i, line in enumerate(text.split(b"\n")) if line.strip(b"\r")]


def _pieces(text: bytes, cuts: list[int]) -> list[bytes]:
    bounds = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


lines = st.lists(st.sampled_from([b"a,b", b"1,2", b"", b"\r", b"x\r", b"\rz", b"12345,6"]), max_size=40)
endings = st.sampled_from([b"\n", b"\r\n"])


@settings(max_examples=300, deadline=None)
@given(lines, endings, st.lists(st.integers(0, 400), max_size=8), st.booleans())
def test_line_of_row_matches_the_reference(
    parts: list[bytes], ending: bytes, cuts: list[int], final_newline: bool
) -> None:
    text = ending.join(parts) + (ending if final_newline and parts else b"")
    expected = _reference(text)
    chunks = _pieces(text, cuts)
    assert nonempty_line_numbers(chunks).tolist() == expected
    for row in range(-1, len(expected)):
        want = expected[row + 1] if row + 1 < len(expected) else None
        assert line_of_row(iter(chunks), row) == want, (text, chunks, row)


def test_plain_chunks_are_only_counted() -> None:
    text = b"h\n" + b"".join(b"r%d\n" % i for i in range(10_000)) + b"\n\nlast\n"
    chunks = _pieces(text, [7, 5000, 33_333, 60_000])
    assert line_of_row(iter(chunks), 0) == 2
    assert line_of_row(iter(chunks), 9_999) == 10_001
    assert line_of_row(iter(chunks), 10_000) == 10_004  # after two empty lines
    assert line_of_row(iter(chunks), 10_001) is None
