"""What the server knows while it runs: its settings, the app's transport, the connected clients.

``ServeState`` is the one object the aiohttp applications carry (under ``STATE``, a typed
``web.AppKey``); handlers, the client loops and the desktop app's Clients panel all read it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from replayterm.core.replay.clock import PlaybackClock
from replayterm.serve.catalog import Catalog
from replayterm.serve.stream import END

if TYPE_CHECKING:
    from replayterm.serve.client import ClientLoop

T = TypeVar("T")


@dataclass
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8000  # WebSocket on port + 1; 0 = any free pair
    token: str | None = None
    stall_timeout_s: float = 30.0  # a client that takes nothing for this long is closed (1008)
    max_inbound: int = 64 << 10  # largest control message accepted
    chunk_bytes: int = 1 << 20  # JSON bytes a client's stream encodes at a time (about)
    write_bytes: int = 64 << 10  # bytes handed to a socket at a time
    high_water: int = 64 << 10  # a socket buffer above this waits for the client to read
    http_budget: int = 32_768  # messages per stream per chunk at most
    ws_budget: int = 8_192
    workers: int = 2


class AppClock(PlaybackClock):
    """The desktop app's transport, which following clients mirror; ``generation`` counts its seeks."""

    def __init__(self) -> None:
        super().__init__()
        self.generation = 0


def wall_at(clock: PlaybackClock, ts: int) -> float | None:
    """Wall time (the clock's own) at which ``clock`` shows ``ts``; None: not while it stays as is."""
    if ts <= clock.now():
        return clock.wall()
    if not clock.playing or clock.is_max:
        return None
    return clock.anchor_wall + (ts - clock.anchor_ts) / 1e6 / clock.speed


@dataclass
class ClientInfo:
    id: int
    kind: str  # "http" | "ws"
    peer: str
    subscriptions: list[str]
    messages: int = 0
    bytes: int = 0
    position_ts: int = 0
    target_ts: int = END
    buffered: int = 0
    state: str = "streaming"
    follows_app: bool = False

    @property
    def lag_us(self) -> int | None:
        """How far the client is behind its pacing target in replay time (None when unpaced)."""
        if self.target_ts >= END:
            return None
        return max(0, self.target_ts - self.position_ts)


@dataclass(eq=False)
class ServeState:
    catalog: Catalog
    config: ServeConfig
    app_clock: AppClock | None = None
    on_change: Callable[[], object] | None = None
    clients: dict[int, ClientInfo] = field(default_factory=dict)
    loops: dict[int, ClientLoop] = field(default_factory=dict)
    executor: ThreadPoolExecutor | None = None  # owned by the HTTP application's cleanup_ctx
    next_id: int = 1

    def register(self, info: ClientInfo, loop: ClientLoop) -> None:
        self.clients[info.id] = info
        self.loops[info.id] = loop
        self.changed()

    def unregister(self, info: ClientInfo) -> None:
        info.state = "closed" if not info.state.startswith("closed") else info.state
        self.clients.pop(info.id, None)
        self.loops.pop(info.id, None)
        self.changed()

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def follow(self, ts: int, playing: bool, speed: float, seeked: bool) -> None:
        """The app's transport moved: following clients pace to it, and jump with it on seeks."""
        clock = self.app_clock
        if clock is None:
            return
        clock.set(ts, playing=playing, speed=speed)
        if seeked:
            clock.generation += 1
        for loop in self.loops.values():
            loop.wake()

    async def run(self, func: Callable[[], T]) -> T:
        """CPU work (encoding, seeking) on the server's threads, never on the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, func)
