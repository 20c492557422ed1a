"""The replay server's lifetime: bind the port pair, run the two applications, stop.

``ReplayServer`` is what ``replayterm serve`` and the app's File ▸ Serve hold. The routes are in
``app`` (an application factory), one client's replay in ``client`` (``ClientLoop`` writing to
an HTTP or WebSocket ``sinks`` sink), the control actions in ``control``, the shared state
(settings, the app's transport, connected clients) in ``state``.

Slow clients are isolated: each client's loop waits for its own socket to drain, so memory per
client is bounded by about one chunk plus the socket buffer; a client that takes nothing for
``stall_timeout_s`` is closed (WebSocket 1008 with the reason; HTTP connection aborted). A
client that keeps reading is never closed, whatever the message sizes.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from aiohttp import web

from replayterm.serve.app import create_apps
from replayterm.serve.catalog import Catalog
from replayterm.serve.state import AppClock, ClientInfo, ServeConfig, ServeState

__all__ = ["AppClock", "ClientInfo", "ReplayServer", "ServeConfig", "bind_port_pair"]


class ReplayServer:
    def __init__(
        self,
        catalog: Catalog,
        config: ServeConfig | None = None,
        *,
        app_clock: AppClock | None = None,
        on_change: Callable[[], object] | None = None,
    ) -> None:
        self.state = ServeState(catalog, config or ServeConfig(), app_clock, on_change)
        self._runners: list[web.AppRunner] = []
        self.http_port = 0
        self.ws_port = 0

    @property
    def catalog(self) -> Catalog:
        return self.state.catalog

    @property
    def config(self) -> ServeConfig:
        return self.state.config

    @property
    def app_clock(self) -> AppClock | None:
        return self.state.app_clock

    @property
    def clients(self) -> dict[int, ClientInfo]:
        return self.state.clients

    async def start(self) -> tuple[int, int]:
        http_sock, ws_sock = bind_port_pair(self.config.host, self.config.port)
        self.http_port, self.ws_port = http_sock.getsockname()[1], ws_sock.getsockname()[1]
        for app, sock in zip(create_apps(self.state), (http_sock, ws_sock), strict=True):
            runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
            await runner.setup()
            await web.SockSite(runner, sock).start()
            self._runners.append(runner)
        return self.http_port, self.ws_port

    async def stop(self) -> None:
        # the WebSocket application first: the HTTP one owns the thread pool both use
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()

    def follow(self, ts: int, playing: bool, speed: float, seeked: bool) -> None:
        """The app's transport moved: following clients pace to it, and jump with it on seeks."""
        self.state.follow(ts, playing, speed, seeked)


def bind_port_pair(host: str, port: int) -> tuple[socket.socket, socket.socket]:
    """Listening sockets on ``port`` and ``port + 1`` (``port == 0``: the first free pair found)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET

    def bind(p: int) -> socket.socket:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, p))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        return sock

    if port:
        first = bind(port)
        try:
            return first, bind(port + 1)
        except OSError:
            first.close()
            raise
    for _ in range(50):
        first = bind(0)
        p = first.getsockname()[1]
        if p >= 65535:
            first.close()
            continue
        try:
            return first, bind(p + 1)
        except OSError:
            first.close()
    raise OSError("no free pair of neighbouring ports found")
