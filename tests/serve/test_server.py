"""End to end: the server runs in its own process (``replayterm serve --port 0``); the test is the client."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import aiohttp
import pytest
from server_process import ServerProcess, start_server, stop_server

from replayterm.serve import encode as enc
from replayterm.serve.catalog import Catalog
from replayterm.serve.options import parse_options
from replayterm.serve.stream import ReplayStream

OPTS = {"exchange": "synthetic", "symbols": ["SYNTHUSD"], "dataTypes": ["trade", "book_change", "quote"],
        "from": "2024-01-02T00:02:00Z", "to": "2024-01-02T00:03:00Z", "openingSnapshot": True}  # fmt: skip


def query(options: object) -> str:
    return urllib.parse.urlencode({"options": json.dumps(options)})


def test_health_check(server: ServerProcess) -> None:
    for port in (server.http_port, server.ws_port):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health-check", timeout=10) as r:
            assert json.loads(r.read())["status"] == "ok"


def test_http_ndjson_equals_the_stream(server: ServerProcess, catalog: Catalog) -> None:
    with urllib.request.urlopen(f"{server.http}/replay-normalized?{query(OPTS)}", timeout=60) as r:
        assert r.headers["Content-Type"] == "application/x-json-stream"
        body = r.read()
    stream = ReplayStream(parse_options(json.dumps(OPTS), catalog))
    expected = b""
    while not stream.at_end:
        expected += enc.ndjson(stream.next_chunk())
    assert body == expected
    assert body.count(b"\n") > 1000


@pytest.mark.parametrize(
    ("options", "message"),
    [("{bad", "not valid JSON"),
     ({"exchange": "synthetic", "dataTypes": ["nope"]}, "unknown data type 'nope'"),
     ({"exchange": "synthetic", "symbols": ["XBT"], "dataTypes": ["trade"]}, "symbol 'XBT'"),
     ({"exchange": "synthetic", "from": "2024-01-02T00:05:00Z", "to": "2024-01-02T00:01:00Z",
       "dataTypes": ["trade"]}, '"from" must be before "to"')],
)  # fmt: skip
def test_http_bad_options_get_400_with_a_json_error(
    server: ServerProcess, options: object, message: str
) -> None:
    q = urllib.parse.urlencode({"options": options if isinstance(options, str) else json.dumps(options)})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{server.http}/replay-normalized?{q}", timeout=10)
    assert info.value.code == 400
    assert message in json.loads(info.value.read())["error"]


def test_http_oversized_request_is_refused(server: ServerProcess) -> None:
    q = urllib.parse.urlencode({"options": json.dumps({"exchange": "x" * 20_000})})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{server.http}/replay-normalized?{q}", timeout=10)
    assert info.value.code in (400, 414, 431)


async def _ws_messages(ws: aiohttp.ClientWebSocketResponse, n: int, timeout: float = 20) -> list[dict]:
    out = []
    while len(out) < n:
        msg = await ws.receive(timeout=timeout)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        out.append(json.loads(msg.data))
    return out


def test_ws_replay_and_control(server: ServerProcess) -> None:
    async def run() -> None:
        url = f"{server.ws}/ws-replay-normalized?{query(OPTS)}"
        async with aiohttp.ClientSession() as session, session.ws_connect(url, max_msg_size=0) as ws:
            first = await _ws_messages(ws, 50)
            assert first[0]["type"] == "book_change"
            assert first[0]["isSnapshot"] is True
            # pause: the stream stops (after what was already in flight)
            await ws.send_json({"action": "pause"})
            await asyncio.sleep(0.3)
            while True:
                try:
                    await ws.receive(timeout=0.3)
                except TimeoutError:
                    break
            with pytest.raises(TimeoutError):
                await ws.receive(timeout=0.5)
            # drop the quotes, seek back to 00:02:30, pace at 10x real time, resume
            await ws.send_json({"action": "unsubscribe", "dataTypes": ["quote"]})
            await ws.send_json({"action": "seek", "to": "2024-01-02T00:02:30Z"})
            await ws.send_json({"action": "speed", "value": 10})
            await ws.send_json({"action": "resume"})
            started = time.monotonic()  # clock-ok: 10x real-time pacing is what is tested
            msgs = await _ws_messages(ws, 2)
            assert msgs[0]["type"] == "book_change"
            assert msgs[0]["isSnapshot"] is True
            assert msgs[0]["localTimestamp"] == "2024-01-02T00:02:30.000000Z"
            seen = [m["localTimestamp"] for m in msgs]
            while time.monotonic() - started < 1.0:  # clock-ok: listen for about a second
                try:
                    msg = await ws.receive(timeout=0.2)
                except TimeoutError:
                    continue
                m = json.loads(msg.data)
                assert m["type"] != "book_snapshot"
                seen.append(m["localTimestamp"])
            elapsed = time.monotonic() - started  # clock-ok: a slower machine only loosens the bound
            assert len(seen) > 10
            # ~1 s at 10x is ~10 s of data, not the remaining 30 s
            assert seen[-1] < f"2024-01-02T00:02:{30 + int(10 * elapsed) + 2}Z"
            # bad control messages get an error message, the stream goes on
            await ws.send_json({"action": "warp"})
            await ws.send_str("not json")
            errors = []
            while len(errors) < 2:
                m = json.loads((await ws.receive(timeout=10)).data)
                if m.get("type") == "error":
                    errors.append(m["message"])
            assert "unknown action 'warp'" in errors[0]
            assert "JSON" in errors[1]

    asyncio.run(run())


def test_ws_bad_options_close_with_a_json_error(server: ServerProcess) -> None:
    async def run() -> None:
        url = f"{server.ws}/ws-replay-normalized?{query({'exchange': 'synthetic', 'dataTypes': ['tradez']})}"
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            msg = await ws.receive(timeout=10)
            assert "unknown data type 'tradez'" in json.loads(msg.data)["error"]
            msg = await ws.receive(timeout=10)
            assert msg.type == aiohttp.WSMsgType.CLOSE
            assert ws.close_code == 1008
            assert "error" in json.loads(msg.extra)

    asyncio.run(run())


def test_ws_oversized_inbound_message_is_refused(server: ServerProcess) -> None:
    async def run() -> None:
        opts = {
            "exchange": "synthetic",
            "dataTypes": ["trade", "book_change"],
        }  # more than socket buffers hold
        url = f"{server.ws}/ws-replay-normalized?{query(opts)}"
        async with aiohttp.ClientSession() as session, session.ws_connect(url, max_msg_size=0) as ws:
            await ws.send_str(json.dumps({"action": "pause", "pad": "x" * 200_000}))
            while True:
                msg = await ws.receive(timeout=10)
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                    break
            assert ws.close_code == 1009

    asyncio.run(run())


def test_remote_binding_needs_a_flag_and_a_token_can_be_required(
    sample_files: list[str], tmp_path: Path
) -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "replayterm", "serve", *sample_files, "--host", "0.0.0.0", "--port", "0"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "--allow-remote" in refused.stderr
    srv = start_server(sample_files, tmp_path, "--token", "s3cret")
    try:
        url = f"{srv.http}/replay-normalized?{query(OPTS)}"
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(url, timeout=10)
        assert info.value.code == 401
        with urllib.request.urlopen(url + "&token=s3cret", timeout=60) as r:
            assert r.read().count(b"\n") > 1000
    finally:
        stop_server(srv)


def test_ws_options_can_ask_for_a_paced_replay_from_the_start(server: ServerProcess) -> None:
    """``"speed"`` in the options paces the replay from its first message (issue 19, item 11);
    a control message sent after connecting comes too late: a burst is already out."""

    async def run() -> None:
        opts = {**OPTS, "dataTypes": ["trade", "book_change"], "speed": 10}
        url = f"{server.ws}/ws-replay-normalized?{query(opts)}"
        async with aiohttp.ClientSession() as session, session.ws_connect(url, max_msg_size=0) as ws:
            started = time.monotonic()  # clock-ok: 10x real-time pacing is what is tested
            seen: list[str] = []
            while time.monotonic() - started < 1.0:  # clock-ok: listen for about a second
                try:
                    msg = await ws.receive(timeout=0.2)
                except TimeoutError:
                    continue
                seen.append(json.loads(msg.data)["localTimestamp"])
            elapsed = time.monotonic() - started  # clock-ok: a slower machine only loosens the bound
            assert len(seen) > 10
            # ~1 s at 10x is ~10 s of the minute, not all of it
            assert seen[-1] < f"2024-01-02T00:02:{int(10 * elapsed) + 2:02d}Z", seen[-1]

    asyncio.run(run())


@pytest.mark.parametrize("bad", [{"speed": 0}, {"speed": -1}, {"speed": "fast"}])
def test_a_bad_speed_in_the_options_is_refused(catalog: Catalog, bad: dict[str, object]) -> None:
    from replayterm.serve.options import OptionsError

    with pytest.raises(OptionsError, match='"speed"'):
        parse_options(json.dumps({**OPTS, **bad}), catalog)
    assert parse_options(json.dumps({**OPTS, "speed": "max"}), catalog).speed is None
    assert parse_options(json.dumps({**OPTS, "speed": 2.5}), catalog).speed == 2.5


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_stall_timeout_must_be_positive(sample_files: list[str], value: str) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "replayterm", "serve", *sample_files, f"--stall-timeout={value}"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "--stall-timeout" in run.stderr
    assert "> 0" in run.stderr
