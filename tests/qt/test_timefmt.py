from __future__ import annotations

import pytest

from replayterm.qt.timefmt import format_iso, format_time_of_day, format_utc, parse_time

T = 1_721_305_696_789_123  # 2024-07-18T12:28:16.789123Z


def test_format_utc_and_time_of_day() -> None:
    assert format_utc(T) == "2024-07-18 12:28:16.789"
    assert format_utc(T, date=False) == "12:28:16.789"
    assert format_time_of_day(T) == "12:28:16.789"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-07-18T12:28:16.789123Z", T),
        ("2024-07-18 12:28:16.789123", T),
        ("2024-07-18T14:28:16.789123+02:00", T),
        ("1721305696789123", T),
        ("12:28:16.789123", T),
        ("2024-07-18", 1_721_260_800_000_000),
    ],
)
def test_parse_time_accepts(text: str, expected: int) -> None:
    assert parse_time(text, reference_us=T - 5_000_000) == expected


def test_parse_time_round_trips_iso() -> None:
    assert parse_time(format_iso(T)) == T


@pytest.mark.parametrize("text", ["", "yesterday", "2024-13-01T00:00:00", "12:61"])
def test_parse_time_rejects(text: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_time(text, reference_us=T)


def test_time_of_day_needs_a_reference() -> None:
    with pytest.raises(ValueError, match="full date"):
        parse_time("12:00:00")
