"""File ▸ Serve: the replay server inside the app, on asyncio in Qt's event loop (qasync).

The server is the same ``ReplayServer`` as ``replayterm serve``; here it runs on a qasync loop
that shares the GUI thread's Qt event loop, because its work there is I/O only: accepting
connections, reading control messages and handing encoded buffers to sockets. Everything that
costs CPU stays off the GUI thread: the files are opened into a ``Catalog`` on a worker thread
(the Arrow cache makes that a memory map), and every client's messages are encoded on the
server's own thread pool from that client's own cursor over the shared, immutable data.

Why a cursor per client instead of the frames the replay worker publishes: frames are lossy by
design (top 200 levels, at most 60 per second, coalesced by the GUI), while a tardis-machine
client needs every book change and trade. So clients replay the same data themselves and only
their *clock* follows the app: each frame tells the server the replay time, play state and
speed (``ReplayServer.follow``), clients send everything received up to that time, and an app
seek makes them seek too (a fresh snapshot first). A slow client falls behind (its lag shows in
the Clients panel) and is closed past the buffer limits; it never slows the replay or the GUI.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

from replayterm.core.frames import Frame
from replayterm.serve.catalog import Catalog
from replayterm.serve.options import OptionsError
from replayterm.serve.redis_sink import RedisConfig, RedisPublisher, RedisUnavailableError
from replayterm.serve.server import AppClock, ClientInfo, ReplayServer, ServeConfig

log = logging.getLogger(__name__)


class ServeHost(QObject):
    """Owns the in-app server: start/stop, the app clock it follows, and client rows for the panel."""

    state_changed = Signal(str)  # human-readable status ("" when stopped)
    clients_changed = Signal()
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.paths: list[str] = []
        self.server: ReplayServer | None = None
        self.clock = AppClock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opener = ThreadPoolExecutor(max_workers=1, thread_name_prefix="serve-open")
        self._starting = False
        self._last_generation_ts: int | None = None
        # Redis fan-out beside the server (File ▸ Serve's Redis field): "" = none.
        self.redis_url = ""
        self.publisher: RedisPublisher | None = None
        self._publish_task: asyncio.Task[None] | None = None

    # -- what to serve -------------------------------------------------------------------------

    def set_paths(self, paths: Sequence[str]) -> None:
        """The files the app opened last; File ▸ Serve serves those (a running server switches)."""
        self.paths = [str(p) for p in paths]
        server = self.server
        if server is not None and self._loop is not None:
            self.server = None
            self._starting = True
            self.state_changed.emit("switching the server to the new files…")
            self._loop.create_task(self._restart(server, server.config.port, server.config.host))

    async def _restart(self, old: ReplayServer, port: int, host: str) -> None:
        await old.stop()  # frees the port before the new server binds it
        await self._start(list(self.paths), port, host)

    @property
    def running(self) -> bool:
        return self.server is not None

    def clients(self) -> list[ClientInfo]:
        """Connected clients, the Redis publisher among them (kind "redis")."""
        return list(self.server.clients.values()) if self.server is not None else []

    def address(self) -> str:
        if self.server is None:
            return ""
        host = self.server.config.host
        return f"http://{host}:{self.server.http_port}  ws://{host}:{self.server.ws_port}"

    # -- the app's transport -------------------------------------------------------------------

    def apply_frame(self, frame: Frame) -> None:
        """Every rendered frame moves the clock following clients pace to."""
        self.clock.seek(frame.local_ts)
        if self.server is not None:
            speed = math.inf if math.isinf(frame.speed) else float(frame.speed)
            self.server.follow(frame.local_ts, frame.playing, speed, seeked=frame.reset)

    # -- start / stop --------------------------------------------------------------------------

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            import qasync  # the app's only asyncio loop; created on first use

            self._loop = qasync.QEventLoop(QApplication.instance(), already_running=True)
            asyncio.set_event_loop(self._loop)
        return self._loop

    def start(self, port: int = 8000, host: str = "127.0.0.1") -> None:
        if self.server is not None or self._starting:
            return
        if not self.paths:
            self.failed.emit("Nothing to serve", "Open market data first, then choose File ▸ Serve.")
            return
        self._starting = True
        self.state_changed.emit("opening files for the server…")
        loop = self._event_loop()
        loop.create_task(self._start(list(self.paths), port, host))

    async def _start(self, paths: list[str], port: int, host: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            catalog = await loop.run_in_executor(self._opener, Catalog.open, paths)
            server = ReplayServer(
                catalog,
                ServeConfig(host=host, port=port),
                app_clock=self.clock,
                on_change=self.clients_changed.emit,
            )
            try:
                await server.start()
            except OSError:
                server = ReplayServer(
                    catalog,
                    ServeConfig(host=host, port=0),
                    app_clock=self.clock,
                    on_change=self.clients_changed.emit,
                )
                await server.start()
        except Exception as exc:  # a bad file or a busy port: tell the user, keep the app running
            self._starting = False
            self.state_changed.emit("")
            self.failed.emit("Could not start the server", str(exc))
            return
        self.server = server
        self._starting = False
        if self.redis_url.strip():
            await self._start_redis(catalog, server, self.redis_url.strip())
        log.info("serving on %s", self.address())
        self.state_changed.emit(f"serving  {self.address()}")
        self.clients_changed.emit()

    async def _start_redis(self, catalog: Catalog, server: ReplayServer, url: str) -> None:
        """Publish to Redis too, paced by the app's transport; a failure leaves the server running."""
        try:
            publisher = RedisPublisher(server.state, RedisConfig(url))
            await publisher.connect()
        except (RedisUnavailableError, OptionsError) as exc:
            self.failed.emit("Could not publish to Redis", str(exc))
            return
        self.publisher = publisher
        self._publish_task = asyncio.get_running_loop().create_task(self._publish(publisher))

    async def _publish(self, publisher: RedisPublisher) -> None:
        try:
            await publisher.run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Redis went away: say so in the panel, keep serving
            publisher.error = f"stopped: {exc}"
            if publisher.loop is not None:
                publisher.loop.info.state = publisher.error
            log.warning("Redis publishing stopped: %s", exc)
            self.clients_changed.emit()

    def _stop_redis(self) -> None:
        task, self._publish_task = self._publish_task, None
        self.publisher = None
        if task is not None:
            task.cancel()

    def stop(self) -> None:
        self._stop_redis()
        server, self.server = self.server, None
        if server is not None and self._loop is not None:
            self._loop.create_task(server.stop())
            log.info("server stopped")
        self.state_changed.emit("")
        self.clients_changed.emit()

    def close(self) -> None:
        """Stop serving and release the loop (the window is closing)."""
        self.stop()
        self._opener.shutdown(wait=False, cancel_futures=True)
        if self._loop is not None:
            # qasync's already-running loop is left to its owner to clean up.
            asyncio.events._set_running_loop(None)
            asyncio.set_event_loop(None)
            self._loop = None
