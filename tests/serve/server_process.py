"""A replay server in another process, for the end-to-end tests (a module of its own, so test
files import it by a name no other test folder uses)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


class ServerProcess:
    def __init__(self, proc: subprocess.Popen[str], http_port: int, ws_port: int) -> None:
        self.proc = proc
        self.http_port = http_port
        self.ws_port = ws_port

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"


def start_server(files: list[str], cache: Path, *extra: str) -> ServerProcess:
    env = {**os.environ, "REPLAYTERM_CACHE_DIR": str(cache)}
    cmd = [sys.executable, "-m", "replayterm", "serve", *files, "--port", "0", *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("READY"):
            _, http_port, ws_port = line.split()
            return ServerProcess(proc, int(http_port), int(ws_port))
    proc.kill()
    raise AssertionError("server did not start:\n" + "".join(lines))


def stop_server(server: ServerProcess) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()
