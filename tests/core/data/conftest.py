"""Fixtures for the data-layer tests: small Tardis-format files written on the fly."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_helpers import Writer, write_file


@pytest.fixture
def write(tmp_path: Path) -> Writer:
    """write(name, header, *rows, gz=False) -> path of a CSV with those lines."""

    def _write(name: str, header: str, *rows: str, gz: bool = False) -> Path:
        text = "\n".join([header, *rows]) + "\n"
        return write_file(tmp_path / name, text, gz=gz)

    return _write
