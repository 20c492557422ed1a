"""``serve --redis``: the replay published to Redis channels, the same messages as a WebSocket
client gets, controlled (pause, resume, speed, seek) over the control channel (real servers)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = [
    str(REPO / "data" / "synthetic_incremental_book_L2_2024-01-02_SYNTHUSD.csv.gz"),
    str(REPO / "data" / "synthetic_trades_2024-01-02_SYNTHUSD.csv.gz"),
]
OPTIONS = [{"exchange": "synthetic", "dataTypes": ["trade", "book_change"]}]


class Served:
    def __init__(self, proc: subprocess.Popen[str], ws_port: int) -> None:
        self.proc = proc
        self.ws_port = ws_port


def _start(cache: Path, *extra: str) -> Served:
    env = {**os.environ, "REPLAYTERM_CACHE_DIR": str(cache)}
    cmd = [sys.executable, "-m", "replayterm", "serve", *SAMPLE, "--port", "0", *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("READY"):
            return Served(proc, int(line.split()[2]))
    proc.wait(10)
    raise AssertionError("server did not start:\n" + "".join(lines))


@pytest.fixture
def served(redis_server: Any, tmp_path: Path) -> Iterator[Served]:
    server = _start(tmp_path / "cache", "--redis", redis_server.url, "--redis-paused", "--redis-speed", "1")
    try:
        yield server
    finally:
        server.proc.terminate()
        try:
            server.proc.wait(10)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()


def _websocket_texts(port: int, options: Any) -> list[str]:
    """Every message a free-running WebSocket client gets for these options, in order."""

    async def run() -> list[str]:
        query = urllib.parse.urlencode({"options": json.dumps(options)})
        url = f"ws://127.0.0.1:{port}/ws-replay-normalized?{query}"
        out = []
        async with aiohttp.ClientSession() as session, session.ws_connect(url, max_msg_size=0) as ws:
            async for msg in ws:
                assert msg.type == aiohttp.WSMsgType.TEXT
                out.append(msg.data)
        return out

    return asyncio.run(run())


class Subscriber:
    """A redis-py client on every data channel (pattern *:*:*) and the status channel."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.psubscribe("*:*:*")
        self.pubsub.subscribe("replayterm:status")
        self.statuses: list[dict[str, Any]] = []

    def control(self, **action: Any) -> None:
        self.client.publish("replayterm:control", json.dumps(action))

    def until_status(self, state: str, timeout: float = 120) -> list[tuple[str, str]]:
        """The data messages (channel, text) received until the status ``state``."""
        out = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.pubsub.get_message(timeout=1.0)
            if msg is None:
                continue
            channel, data = msg["channel"].decode(), msg["data"].decode()
            if channel == "replayterm:status":
                status = json.loads(data)
                self.statuses.append(status)
                assert status["state"] != "error", status
                if status["state"] == state:
                    return out
                continue
            out.append((channel, data))
        raise AssertionError(f"no status {state!r} within {timeout} s; got {self.statuses[-3:]}")

    def quiet(self, seconds: float) -> list[Any]:
        """Whatever arrives within ``seconds`` (expected: nothing)."""
        got = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            msg = self.pubsub.get_message(timeout=0.1)
            if msg is not None:
                got.append(msg)
        return got

    def close(self) -> None:
        self.pubsub.close()
        self.client.close()


@pytest.mark.slow
def test_a_redis_subscriber_gets_the_websocket_sequence_and_controls_the_replay(
    served: Served, redis_server: Any
) -> None:
    expected = _websocket_texts(served.ws_port, OPTIONS)
    assert len(expected) > 1000
    sub = Subscriber(redis_server.url)
    try:
        sub.control(action="resume")  # started paused, so that nothing was published before now
        first = sub.until_status("playing")
        # Real time: a few messages at most arrive before the pause is taken.
        sub.control(action="pause")
        first += sub.until_status("paused")
        assert sub.quiet(0.5) == []  # paused: nothing is published
        assert len(first) < len(expected)
        sub.control(action="speed", value="max")
        sub.control(action="resume")
        rest = sub.until_status("ended")
        received = first + rest
        assert [text for _, text in received] == expected
        for channel, text in received:
            message = json.loads(text)
            assert channel == f"{message['exchange']}:{message['symbol']}:{message['type']}"
        assert {c for c, _ in received} == {"synthetic:SYNTHUSD:trade", "synthetic:SYNTHUSD:book_change"}

        # Seek back: the replay restarts there, as a WebSocket replay from that time does.
        middle = json.loads(expected[len(expected) // 2])["localTimestamp"]
        sub.control(action="seek", to=middle)
        after = sub.until_status("ended")
        opts = {**OPTIONS[0], "from": middle, "exactRange": True, "openingSnapshot": True}
        from_middle = _websocket_texts(served.ws_port, [opts])
        assert [text for _, text in after] == from_middle
        assert json.loads(after[0][1])["isSnapshot"] is True  # the book at that moment first
    finally:
        sub.close()


def test_bad_control_messages_are_answered_on_the_status_channel(served: Served, redis_server: Any) -> None:
    sub = Subscriber(redis_server.url)
    try:
        sub.control(action="speed", value=-1)
        sub.client.publish("replayterm:control", "not json")
        errors: list[dict[str, Any]] = []
        deadline = time.monotonic() + 30
        while len(errors) < 2 and time.monotonic() < deadline:
            msg = sub.pubsub.get_message(timeout=1.0)
            if msg is not None and msg["channel"] == b"replayterm:status":
                status = json.loads(msg["data"])
                if status["state"] == "error":
                    errors.append(status)
        assert '"speed" needs "value"' in errors[0]["message"]
        assert "JSON objects" in errors[1]["message"]
    finally:
        sub.close()


def test_an_unreachable_redis_is_refused_with_a_message(tmp_path: Path) -> None:
    from local_servers import free_port

    cmd = [sys.executable, "-m", "replayterm", "serve", *SAMPLE, "--port", "0"]
    cmd += ["--redis", f"redis://:secret@127.0.0.1:{free_port()}/0"]
    env = {**os.environ, "REPLAYTERM_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1
    assert "cannot reach Redis at redis://:***@127.0.0.1" in done.stderr
    assert "secret" not in done.stderr
