"""Replay server throughput: ``replayterm serve`` in one process, clients in others, on loopback.

For HTTP NDJSON and WebSocket, for a trade-only stream and a book_change-heavy one (trades and
every book change), with one client and with 20 at once: messages per second received (all
clients together) and the server's CPU time per message (from /proc, so it does not depend on
how busy the machine is), medians of ``REPLAYTERM_BENCH_REPEATS`` runs (5), with the load
average. The 20 clients each ask for the first tenth of the data. Clients are lean (they count
newlines / walk frame headers over large reads and parse the first message as JSON), so they
measure the server. Run ``python -m benchmarks serve``; ``python -m benchmarks.bench_serve client
http|ws PORT [OPTIONS-JSON]`` is the client side.
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

ROWS = int(os.environ.get("REPLAYTERM_BENCH_SERVE_ROWS", "1500000"))
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


def client(kind: str, port: int, options: dict[str, Any] | None = None) -> dict[str, Any]:
    path = ("/ws-replay-normalized?" if kind == "ws" else "/replay-normalized?") + urllib.parse.urlencode(
        {"options": json.dumps(options or OPTIONS)}
    )
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    started = time.perf_counter()
    wall_start = time.monotonic()
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
    return {"messages": messages, "seconds": seconds, "bytes": nbytes, "start": wall_start,
            "end": time.monotonic()}  # fmt: skip


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


def _run_clients(kind: str, port: int, options: dict[str, Any], n: int) -> dict[str, Any]:
    """``n`` client processes at once; messages and bytes of all, wall time from first start to last end."""
    cmd = [sys.executable, "-m", "benchmarks.bench_serve", "client", kind, str(port), json.dumps(options)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(n)]
    outs = []
    for proc in procs:
        out, _ = proc.communicate(timeout=900)
        if proc.returncode != 0:
            raise RuntimeError(f"a benchmark client failed ({proc.returncode})")
        outs.append(json.loads(out))
    seconds = max(o["end"] for o in outs) - min(o["start"] for o in outs)
    return {
        "messages": sum(o["messages"] for o in outs),
        "bytes": sum(o["bytes"] for o in outs),
        "seconds": seconds,
        "per_client": sorted({o["messages"] for o in outs}),  # one value: every client got everything
    }


STREAMS = {"trade": ["trade"], "book_change": ["trade", "book_change"]}


def run() -> Iterator[dict[str, Any]]:
    from replayterm.serve.catalog import Catalog

    book = generated_l2_file(ROWS)
    files = [str(book), *(str(p) for p in sorted(book.parent.glob("*trades*.csv.gz")))]
    os.environ.setdefault("REPLAYTERM_CACHE_DIR", str(BENCH_DATA / "cache"))
    span = Catalog.open(files).span
    assert span is not None
    tenth = span[0] + (span[1] - span[0]) // 10
    proc, http_port, ws_port = _start_server(files)
    try:
        for kind, port in (("http", http_port), ("ws", ws_port)):
            _run_clients(kind, port, OPTIONS, 1)  # warm: numba caches, page cache
        for stream, types in STREAMS.items():
            for clients in (1, 20):
                options: dict[str, Any] = {"exchange": "synthetic", "dataTypes": types}
                if clients > 1:
                    options.update(to=tenth, exactRange=True)
                for kind, port in (("http", http_port), ("ws", ws_port)):
                    runs = []
                    loads = []
                    for _ in range(REPEATS):
                        cpu = _cpu_seconds(proc.pid)
                        runs.append(_run_clients(kind, port, options, clients))
                        runs[-1]["server_cpu"] = _cpu_seconds(proc.pid) - cpu
                        loads.append(os.getloadavg()[0])
                    rates = [r["messages"] / r["seconds"] for r in runs]
                    yield result(
                        f"serve_{kind}_{stream}_{clients}clients_messages_per_s",
                        statistics.median(rates),
                        "msg/s",
                        messages=runs[0]["messages"],
                        bytes_per_message=round(runs[0]["bytes"] / max(runs[0]["messages"], 1)),
                        mb_per_s=round(statistics.median(r["bytes"] / r["seconds"] / 1e6 for r in runs), 1),
                        server_cpu_us_per_message=round(
                            statistics.median(r["server_cpu"] / r["messages"] * 1e6 for r in runs), 3
                        ),
                        runs=[round(x) for x in rates],
                        per_client_messages=sorted({m for r in runs for m in r["per_client"]}),
                        load=[round(x, 1) for x in loads],
                    )
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "client":
        opts = json.loads(sys.argv[4]) if len(sys.argv) > 4 else None
        print(json.dumps(client(sys.argv[2], int(sys.argv[3]), opts)))
    else:
        for row in run():
            print(json.dumps(row), flush=True)
