from __future__ import annotations

import pytest

from replayterm.core.data import format_time, parse_time

T0 = 1721347262_500000  # 2024-07-19T00:01:02.5Z


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-07-19T00:01:02.5Z", T0),
        ("2024-07-19T00:01:02.500000Z", T0),
        ("2024-07-19 00:01:02.5", T0),
        ("2024-07-19T02:01:02.5+02:00", T0),
        ("2024-07-18T23:01:02.5-0100", T0),
        ("2024-07-19 00:01", 1721347260_000000),
        ("2024-07-19", 1721347200_000000),
        ("2024-07-19T00:01:02.123456789Z", 1721347262_123456),
        (" 1721347262500000 ", T0),
        (T0, T0),
    ],
)
def test_parse_time(text: str | int, expected: int) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    "text", ["yesterday", "2024-13-01", "2024-07-19T25:00", "", "2024-07-19T00:01:02.5Q"]
)
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="time"):
        parse_time(text)


def test_format_time_round_trip() -> None:
    assert format_time(T0) == "2024-07-19T00:01:02.500000Z"
    assert format_time(0) == "1970-01-01T00:00:00.000000Z"
    for us in (0, 1, T0, T0 + 999_999, 4_102_444_800_000_000):
        assert parse_time(format_time(us)) == us
