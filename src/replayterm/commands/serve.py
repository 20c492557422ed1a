"""``replayterm serve``: replay FILEs to tardis-machine clients over HTTP and WebSocket."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import sys

from replayterm.commands._common import TerminalProgress
from replayterm.core.data import DataError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve FILEs like tardis-machine (HTTP NDJSON + WebSocket, with pause/seek/speed)",
        description="Replay FILEs as tardis-machine does: GET /replay-normalized?options=… streams "
        "normalized messages as NDJSON on PORT, /ws-replay-normalized?options=… sends one message per "
        "WebSocket frame on PORT+1, GET /health-check answers on both. WebSocket clients may send "
        '{"action":"pause"|"resume"|"speed"|"seek"|"subscribe"|"unsubscribe",…}.',
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument(
        "--port", type=int, default=8000, help="HTTP port; WebSocket is PORT+1 (default 8000)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="required to bind an address other than loopback (the server has no TLS)",
    )
    parser.add_argument("--token", help="require this token (?token=… or 'Authorization: Bearer …')")
    parser.add_argument(
        "--stall-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="close clients that read nothing for S s",
    )
    parser.set_defaults(func=run)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    from replayterm.serve.catalog import Catalog
    from replayterm.serve.server import ReplayServer, ServeConfig

    if not is_loopback(args.host):
        if not args.allow_remote:
            print(
                f"replayterm serve: {args.host} is reachable from other machines; "
                "add --allow-remote to do that on purpose (and --token to require a token)",
                file=sys.stderr,
            )
            return 2
        print(
            f"WARNING: serving on {args.host}: anyone who can reach this address can read the data"
            + ("" if args.token else " (no --token given)"),
            file=sys.stderr,
        )
    if not 0 <= args.port <= 65534:
        print("replayterm serve: --port must be 0..65534 (the WebSocket uses PORT+1)", file=sys.stderr)
        return 2
    bar = TerminalProgress("opening")
    try:
        catalog = Catalog.open(args.files, progress=bar)
    except DataError as exc:
        print(f"replayterm serve: {exc}", file=sys.stderr)
        return 1
    finally:
        bar.done()
    if not catalog.markets:
        print("replayterm serve: nothing to replay in these files", file=sys.stderr)
        return 1
    for note in catalog.notes:
        print(f"note: {note}", file=sys.stderr)
    config = ServeConfig(host=args.host, port=args.port, token=args.token, stall_timeout_s=args.stall_timeout)
    return asyncio.run(_serve(ReplayServer(catalog, config)))


async def _serve(server: object) -> int:
    from replayterm.serve.server import ReplayServer

    assert isinstance(server, ReplayServer)
    try:
        http_port, ws_port = await server.start()
    except OSError as exc:
        print(
            f"replayterm serve: cannot listen on {server.config.host}:{server.config.port}: {exc}",
            file=sys.stderr,
        )
        return 1
    host = server.config.host
    markets = ", ".join(f"{e}:{s}" for e, s in server.catalog.markets)
    print(f"serving {markets}", flush=True)
    print(f"HTTP      http://{host}:{http_port}/replay-normalized?options=…", flush=True)
    print(f"WebSocket ws://{host}:{ws_port}/ws-replay-normalized?options=…", flush=True)
    print(f"READY {http_port} {ws_port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()
    return 0
