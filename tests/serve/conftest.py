"""Fixtures for the replay server tests: the bundled sample, a catalog, a server in another process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_process import ServerProcess, start_server, stop_server

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


@pytest.fixture(scope="module")
def server(sample_files: list[str], module_cache: Path) -> Iterator[ServerProcess]:
    srv = start_server(sample_files, module_cache)
    yield srv
    stop_server(srv)
