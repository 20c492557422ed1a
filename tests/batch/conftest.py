"""Multi-day data for the sweep tests: three one-minute synthetic days, one file set per day."""

from __future__ import annotations

from pathlib import Path

import pytest

from replayterm.core.data.synthetic import generate_files

DAYS = ("2024-03-04", "2024-03-05", "2024-03-06")

FAULTY = '''
import os
import time
from dataclasses import dataclass

from replayterm.core.strategy import Strategy


@dataclass
class FaultyParams:
    mode: str = "ok"  # ok | raise | exit | ctor | slow
    size: float = 0.01


class Faulty(Strategy):
    """Trades a little, then misbehaves as its ``mode`` says."""

    name = "faulty"
    Params = FaultyParams

    def __init__(self, params=None):
        super().__init__(params)
        if self.params.mode == "ctor":
            raise ValueError("this strategy refuses to start")
        self.n = 0

    def on_book(self, ctx, book):
        self.n += 1
        if self.n == 20:
            ctx.buy(self.params.size)
        if self.n == 60:
            ctx.sell(self.params.size)
        if self.n == 100:
            if self.params.mode == "raise":
                raise RuntimeError("boom at message 100")
            if self.params.mode == "exit":
                os._exit(3)
        if self.params.mode == "slow":
            time.sleep(0.002)
'''


@pytest.fixture(scope="session")
def days_data(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Book and trades files of three consecutive UTC days (one minute each)."""
    out = tmp_path_factory.mktemp("days")
    files: list[str] = []
    for i, day in enumerate(DAYS):
        g = generate_files(out, minutes=1, seed=11 + i, start=f"{day}T00:00:00Z")
        files += [str(g.book), str(g.trades)]
    return files


@pytest.fixture
def faulty_strategy(tmp_path: Path) -> str:
    path = tmp_path / "faulty.py"
    path.write_text(FAULTY)
    return str(path)
