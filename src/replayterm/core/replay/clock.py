"""``PlaybackClock``: where a replay should be now, from play/pause, speed and seeks.

One piece of arithmetic for every paced replay (the desktop worker, the server's clients and the
app clock they follow): the clock is anchored at a replay time and a wall time; while playing,
``now() = anchor_ts + (wall() - anchor_wall) * speed`` (µs), bounded by ``end_ts``. Every change
(play, pause, speed, seek) re-anchors, so nothing jumps. The wall clock is injected (seconds,
monotonic), so tests move time by hand.

``speed = inf`` is *Max*: the replay goes as fast as it can, which is the caller's business (the
clock then stays at its anchor, and ``is_max`` tells the caller to run free).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

WallClock = Callable[[], float]


class PlaybackClock:
    def __init__(
        self,
        ts: int = 0,
        *,
        speed: float = 1.0,
        playing: bool = False,
        end_ts: int | None = None,
        wall: WallClock = time.monotonic,
    ) -> None:
        self.wall = wall
        self.anchor_ts = int(ts)
        self.anchor_wall = wall()
        self.speed = _valid_speed(speed)
        self.playing = bool(playing)
        self.end_ts = end_ts

    @property
    def is_max(self) -> bool:
        return math.isinf(self.speed)

    def now(self) -> int:
        """The replay time the clock shows now (µs), never past ``end_ts``."""
        ts = self.anchor_ts
        if self.playing and not self.is_max:
            ts += round((self.wall() - self.anchor_wall) * 1e6 * self.speed)
        return ts if self.end_ts is None else min(ts, self.end_ts)

    def play(self) -> None:
        if not self.playing:
            self._anchor(self.now())
            self.playing = True

    def pause(self) -> None:
        if self.playing:
            self._anchor(self.now())
            self.playing = False

    def set_speed(self, speed: float) -> None:
        self._anchor(self.now())
        self.speed = _valid_speed(speed)

    def seek(self, ts: int) -> None:
        """Show ``ts`` now (also how a replay that fell behind tells the clock where it really is)."""
        self._anchor(int(ts) if self.end_ts is None else min(int(ts), self.end_ts))

    def set(self, ts: int, *, playing: bool, speed: float) -> None:
        """Everything at once: a clock that mirrors another (the server following the app)."""
        self.speed = _valid_speed(speed)
        self.playing = bool(playing)
        self.seek(ts)

    def set_end(self, end_ts: int | None) -> None:
        self.end_ts = end_ts
        if end_ts is not None and self.anchor_ts > end_ts:
            self._anchor(end_ts)

    @property
    def at_end(self) -> bool:
        return self.end_ts is not None and self.now() >= self.end_ts

    def _anchor(self, ts: int) -> None:
        self.anchor_ts = int(ts)
        self.anchor_wall = self.wall()


def _valid_speed(speed: float) -> float:
    speed = float(speed)
    return speed if speed > 0 and not math.isnan(speed) else 1.0
