"""PlaybackClock: replay time from an injected wall clock (no real time passes in these tests)."""

from __future__ import annotations

import math

from replayterm.core.replay.clock import PlaybackClock


class Wall:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_paused_clock_stands_still_and_playing_runs_at_speed() -> None:
    wall = Wall()
    clock = PlaybackClock(1_000_000, wall=wall)
    wall.t += 5
    assert clock.now() == 1_000_000
    clock.play()
    wall.t += 2
    assert clock.now() == 3_000_000
    clock.set_speed(10)
    wall.t += 0.5
    assert clock.now() == 8_000_000
    clock.pause()
    wall.t += 100
    assert clock.now() == 8_000_000
    clock.play()
    wall.t += 0.1
    assert clock.now() == 9_000_000


def test_seek_reanchors_while_playing() -> None:
    wall = Wall()
    clock = PlaybackClock(0, playing=True, speed=2.0, wall=wall)
    wall.t += 1
    clock.seek(50_000_000)
    assert clock.now() == 50_000_000
    wall.t += 1
    assert clock.now() == 52_000_000


def test_clock_never_runs_past_the_end() -> None:
    wall = Wall()
    clock = PlaybackClock(0, playing=True, speed=100.0, end_ts=760_000, wall=wall)
    wall.t += 1
    assert clock.now() == 760_000
    assert clock.at_end
    clock.seek(10_000_000)
    assert clock.now() == 760_000
    clock.set_end(500_000)
    assert clock.anchor_ts == 500_000


def test_max_speed_stays_at_its_anchor_for_the_caller_to_run_free() -> None:
    wall = Wall()
    clock = PlaybackClock(7, playing=True, speed=math.inf, wall=wall)
    assert clock.is_max
    wall.t += 10
    assert clock.now() == 7
    clock.seek(99)
    assert clock.now() == 99
    clock.set_speed(1.0)
    wall.t += 1
    assert clock.now() == 1_000_099


def test_bad_speeds_fall_back_to_real_time_and_set_mirrors_another_clock() -> None:
    wall = Wall()
    clock = PlaybackClock(wall=wall)
    clock.set_speed(0)
    assert clock.speed == 1.0
    clock.set_speed(float("nan"))
    assert clock.speed == 1.0
    clock.set(5_000_000, playing=True, speed=4.0)
    wall.t += 0.25
    assert clock.now() == 6_000_000
