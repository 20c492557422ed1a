"""Replay server throughput: ``replayterm serve`` in one process, a client in another, on loopback.

Figures: normalized messages per second (trade + book_change) over HTTP NDJSON and over one
WebSocket, as the client receives them. Both clients are lean (they count newlines / walk frame
headers over large reads and parse the first message as JSON), so they measure the server.
Run ``python -m benchmarks serve``; ``python -m benchmarks.bench_serve client http|ws URL`` is
the client side.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

from benchmarks._util import BENCH_DATA, REPEATS, generated_l2_file, result

ROWS = int(os.environ.get("REPLAYTERM_BENCH_SERVE_ROWS", "3000000"))
OPTIONS = {"exchange": "synthetic", "dataTypes": ["trade", "book_change"]}


def _request(sock: socket.socket, path: str, port: int, websocket: bool) -> bytes:
    head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if websocket:
        key = base64.b64encode(os.urandom(16)).decode()
        head += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        head += f"Sec-WebSocket-Key: {key}\r\n"
    else:
        head += "Connection: close\r\n"
    sock.sendall((head + "\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    header, _, rest = data.partition(b"\r\n\r\n")
    status = header.split(b"\r\n", 1)[0]
    if b" 200 " not in status and b" 101 " not in status:
        raise RuntimeError(status.decode())
    return rest


def client(kind: str, port: int) -> dict[str, Any]:
    path = ("/ws-replay-normalized?" if kind == "ws" else "/replay-normalized?") + urllib.parse.urlencode(
        {"options": json.dumps(OPTIONS)}
    )
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    started = time.perf_counter()
    buf = _request(sock, path, port, kind == "ws")
    messages = 0
    nbytes = 0
    first: bytes | None = None
    if kind == "http":
        chunks = [buf]
        prev = buf[-1:]
        while True:
            data = sock.recv(1 << 20)
            if not data:
                break
            if first is None:
                chunks.append(data)
                joined = b"".join(chunks)
                if joined.count(b"\n") > 2:
                    first = joined.split(b"\n")[1]  # the first line after the chunk-size line
            # chunked transfer encoding adds "\r\n" lines; message lines end with "}\n"
            messages += (prev + data).count(b"}\n")  # a message may end across two reads
            prev = data[-1:]
            nbytes += len(data)
        messages += buf.count(b"}\n")
    else:
        pending = buf
        closed = False
        while not closed:
            data = sock.recv(1 << 20)
            if not data:
                break
            nbytes += len(data)
            pending += data
            i = 0
            n = len(pending)
            while i + 2 <= n:
                b0 = pending[i]
                ln = pending[i + 1] & 0x7F
                h = 2
                if ln == 126:
                    if i + 4 > n:
                        break
                    ln = int.from_bytes(pending[i + 2 : i + 4], "big")
                    h = 4
                elif ln == 127:
                    if i + 10 > n:
                        break
                    ln = int.from_bytes(pending[i + 2 : i + 10], "big")
                    h = 10
                if i + h + ln > n:
                    break
                if b0 == 0x81:
                    if first is None:
                        first = pending[i + h : i + h + ln]
                    messages += 1
                elif b0 == 0x88:
                    closed = True
                    break
                i += h + ln
            pending = pending[i:]
    seconds = time.perf_counter() - started
    sock.close()
    assert first is not None
    assert json.loads(first)["type"] in ("book_change", "trade")
    return {"messages": messages, "seconds": seconds, "bytes": nbytes}


def _start_server(files: list[str]) -> tuple[subprocess.Popen[str], int, int]:
    env = {**os.environ, "REPLAYTERM_CACHE_DIR": str(BENCH_DATA / "cache")}
    cmd = [sys.executable, "-m", "replayterm", "serve", *files, "--port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("READY"):
            _, http_port, ws_port = line.split()
            return proc, int(http_port), int(ws_port)
    raise RuntimeError("the server did not start")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux), to tell server cost from machine load."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run_client(kind: str, port: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_serve", "client", kind, str(port)],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    return dict(json.loads(out.stdout))


def run() -> Iterator[dict[str, Any]]:
    book = generated_l2_file(ROWS)
    files = [str(book), *(str(p) for p in sorted(book.parent.glob("*trades*.csv.gz")))]
    proc, http_port, ws_port = _start_server(files)
    try:
        _run_client("http", http_port)  # warm: numba caches, page cache
        for kind, port in (("http", http_port), ("ws", ws_port)):
            runs = []
            for _ in range(REPEATS):
                cpu = _cpu_seconds(proc.pid)
                runs.append(_run_client(kind, port))
                runs[-1]["server_cpu"] = _cpu_seconds(proc.pid) - cpu
            rates = [r["messages"] / r["seconds"] for r in runs]
            yield result(
                f"serve_{kind}_messages_per_s",
                statistics.median(rates),
                "msg/s",
                messages=runs[0]["messages"],
                mb_per_s=round(statistics.median(r["bytes"] / r["seconds"] / 1e6 for r in runs), 1),
                # messages per second of server CPU: what one free core would sustain
                per_server_cpu_s=round(
                    statistics.median(r["messages"] / max(r["server_cpu"], 1e-3) for r in runs)
                ),
                runs=[round(x) for x in rates],
            )
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "client":
        print(json.dumps(client(sys.argv[2], int(sys.argv[3]))))
    else:
        for row in run():
            print(json.dumps(row), flush=True)
