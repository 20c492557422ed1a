"""Shared test setup. Qt must run offscreen, so this is set before anything imports Qt."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if os.environ.get("REPLAYTERM_TEST_NO_FALLOCATE") and hasattr(os, "posix_fallocate"):
    # Run the suite as on macOS/Windows, which have no posix_fallocate (this process only).
    del os.posix_fallocate

import pytest

import user_state_guard

USER_HOMES = user_state_guard.install()

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLE_DIR = REPO / "data"


def pytest_sessionfinish(session: pytest.Session) -> None:
    user_state_guard.remove(USER_HOMES)


@pytest.fixture(autouse=True)
def _user_state_untouched(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails the test that wrote into what would be the user's cache, settings or sweeps folder."""
    yield
    written = user_state_guard.touched(USER_HOMES)
    if written:
        names = ", ".join(str(p) for p in written)
        pytest.fail(
            f"{request.node.nodeid} wrote into the user's own folders ({names}); use the private ones"
        )


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own Arrow cache directory, so tests never share cache state."""
    monkeypatch.setenv("REPLAYTERM_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def shared_data() -> Path:
    """The real market data beside the repository; tests using it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA
