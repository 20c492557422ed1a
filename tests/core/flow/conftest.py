from __future__ import annotations

from pathlib import Path

import pytest
from flow_helpers import write_generated


@pytest.fixture(scope="module")
def generated_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_generated(tmp_path_factory.mktemp("gen") / "bitmex_trades_2024-07-19_XBTUSD.csv.gz")
