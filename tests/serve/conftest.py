"""Fixtures for the replay server tests: the bundled sample, a catalog, a server in another process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from replayterm.serve.catalog import Catalog

SAMPLE = Path(__file__).resolve().parents[2] / "data"
SAMPLE_FILES = sorted(str(p) for p in SAMPLE.glob("synthetic_*.csv.gz"))


@pytest.fixture(scope="module")
def sample_files() -> list[str]:
    if not SAMPLE_FILES:
        pytest.skip("the bundled sample is missing")
    return SAMPLE_FILES


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    cache = tmp_path_factory.mktemp("serve-cache")
    old = os.environ.get("REPLAYTERM_CACHE_DIR")
    os.environ["REPLAYTERM_CACHE_DIR"] = str(cache)
    yield cache
    if old is None:
        os.environ.pop("REPLAYTERM_CACHE_DIR", None)
    else:
        os.environ["REPLAYTERM_CACHE_DIR"] = old


@pytest.fixture(scope="module")
def catalog(sample_files: list[str], module_cache: Path) -> Catalog:
    return Catalog.open(sample_files)


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


@pytest.fixture(scope="module")
def server(sample_files: list[str], module_cache: Path) -> Iterator[ServerProcess]:
    srv = start_server(sample_files, module_cache)
    yield srv
    stop_server(srv)
