"""``replayterm serve``: replay FILEs to tardis-machine clients over HTTP and WebSocket."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import math
import sys
from typing import Any

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
        type=_positive_seconds,
        default=30.0,
        metavar="S",
        help="close clients that read nothing for S s",
    )
    redis = parser.add_argument_group(
        "Redis fan-out",
        "Also publish the replay to Redis: each message (the WebSocket's JSON) on the channel "
        "PREFIX+exchange:symbol:type; control it with the WebSocket's actions on "
        "PREFIX+replayterm:control, follow its state on PREFIX+replayterm:status. Needs "
        "pip install 'replayterm[db]'.",
    )
    redis.add_argument(
        "--redis", metavar="redis://…", help="the Redis server (password in the URL or REDIS_URL)"
    )
    redis.add_argument(
        "--redis-options",
        metavar="JSON",
        help='a tardis-machine options object or array (default: every market, ["trade","book_change"])',
    )
    redis.add_argument("--redis-prefix", default="", metavar="PREFIX", help="prepended to every channel name")
    redis.add_argument(
        "--redis-speed", default="1", metavar="X|max", help="real-time multiple, or max (default 1)"
    )
    redis.add_argument(
        "--redis-paused",
        action="store_true",
        help='start paused: subscribers connect, then one sends {"action":"resume"} on the control channel',
    )
    parser.set_defaults(func=run)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(
            f"must be > 0 seconds (every client would be closed at once), got {text}"
        )
    return value


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
    try:
        redis = _redis_config(args)
    except ValueError as exc:
        print(f"replayterm serve: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_serve(ReplayServer(catalog, config), redis))


def _redis_config(args: argparse.Namespace) -> Any:
    """The fan-out's settings, or None without --redis."""
    import json
    import os

    from replayterm.serve.redis_sink import RedisConfig, parse_speed

    if args.redis is None:
        return None
    url = args.redis or os.environ.get("REDIS_URL", "")
    if not url:
        raise ValueError("--redis without a URL takes REDIS_URL, which is not set")
    try:
        options = json.loads(args.redis_options) if args.redis_options else None
    except json.JSONDecodeError as exc:
        raise ValueError(f"--redis-options is not valid JSON: {exc}") from None
    return RedisConfig(url, options, args.redis_prefix, parse_speed(args.redis_speed), args.redis_paused)


async def _serve(server: object, redis: Any = None) -> int:
    from replayterm.serve.options import OptionsError
    from replayterm.serve.redis_sink import RedisPublisher, RedisUnavailableError
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
    publisher = None
    if redis is not None:  # a client of the running server's loop, so after it started
        try:
            publisher = RedisPublisher(server.state, redis)
            await publisher.connect()
        except (OptionsError, RedisUnavailableError) as exc:
            await server.stop()
            what = "--redis-options: " if isinstance(exc, OptionsError) else ""
            print(f"replayterm serve: {what}{exc}", file=sys.stderr)
            return 2 if isinstance(exc, OptionsError) else 1
    host = server.config.host
    markets = ", ".join(f"{e}:{s}" for e, s in server.catalog.markets)
    print(f"serving {markets}", flush=True)
    print(f"HTTP      http://{host}:{http_port}/replay-normalized?options=…", flush=True)
    print(f"WebSocket ws://{host}:{ws_port}/ws-replay-normalized?options=…", flush=True)
    task = None
    if publisher is not None:
        prefix = redis.prefix
        print(
            f"Redis     {prefix}EXCHANGE:SYMBOL:TYPE, control {publisher.control_channel}, "
            f"status {publisher.status_channel}",
            flush=True,
        )
        task = asyncio.create_task(publisher.run())
    print(f"READY {http_port} {ws_port}", flush=True)
    try:
        if task is not None:
            await task  # ends only on an error (the server keeps serving until stopped)
        await asyncio.Event().wait()
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await server.stop()
    return 0
