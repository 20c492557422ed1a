from __future__ import annotations

import pytest

from replayterm.qt.timefmt import format_iso, format_time_of_day, format_utc, parse_time, parse_time_explained

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


def _us(iso: str) -> int:
    return parse_time(iso)


# A file spanning midnight: 2024-07-18 23:57 -> 2024-07-19 00:05.
MIDNIGHT_SPAN = (_us("2024-07-18T23:57:00Z"), _us("2024-07-19T00:05:00Z"))


def test_time_of_day_takes_the_current_replay_date() -> None:
    clock = _us("2024-07-19T00:02:00Z")
    us, note = parse_time_explained("00:02:30", clock, MIDNIGHT_SPAN)
    assert us == _us("2024-07-19T00:02:30Z")
    assert note == ""


def test_time_of_day_takes_the_one_date_of_the_data_where_it_falls() -> None:
    before_midnight = _us("2024-07-18T23:58:00Z")
    assert parse_time_explained("00:02:30", before_midnight, MIDNIGHT_SPAN)[0] == _us("2024-07-19T00:02:30Z")
    after_midnight = _us("2024-07-19T00:01:00Z")
    assert parse_time_explained("23:59", after_midnight, MIDNIGHT_SPAN)[0] == _us("2024-07-18T23:59:00Z")
    assert parse_time("23:59", after_midnight, MIDNIGHT_SPAN) == _us("2024-07-18T23:59:00Z")


def test_an_ambiguous_time_of_day_takes_the_current_date_and_says_so() -> None:
    three_days = (_us("2024-07-17T00:00:00Z"), _us("2024-07-19T23:00:00Z"))
    us, note = parse_time_explained("12:00", _us("2024-07-18T03:00:00Z"), three_days)
    assert us == _us("2024-07-18T12:00:00Z")
    assert "3 dates" in note
    assert "current date 2024-07-18" in note


def test_a_time_of_day_outside_the_data_keeps_the_current_date() -> None:
    clock = _us("2024-07-19T00:02:00Z")
    assert parse_time_explained("12:00", clock, MIDNIGHT_SPAN)[0] == _us("2024-07-19T12:00:00Z")
