"""The headless commands on MBO files: info, book, backtest."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from replayterm.cli import main

DBN = "esh4-glbx-mdp3-20231225.mbo.dbn.zst"
LOBSTER = "AAPL_2012-06-21_34200000_57600000_message_10.csv"


def test_info_says_what_the_market_by_order_data_holds(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info", str(shared_data / "mbo" / DBN), str(shared_data / "mbo" / LOBSTER), "--json"]) == 0
    reports = json.loads(capsys.readouterr().out)
    files = reports["files"] if isinstance(reports, dict) else reports
    by_symbol = {s["symbol"]: s for f in files for s in f["sources"] if s["type"] == "incremental_book_L2"}
    es, aapl = by_symbol["ESH4"]["market_by_order"], by_symbol["AAPL"]["market_by_order"]
    assert es["records"] == 68_792
    assert es["live_orders_at_end"] == 11_217
    assert es["crossed_events"] > 0
    assert aapl["orders"] > 0
    assert any("seeded from" in w for w in by_symbol["AAPL"]["warnings"])


def test_book_and_backtest_run_on_a_databento_file(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(shared_data / "mbo" / DBN)
    assert main(["book", path, "--at", "2023-12-25T23:30:00Z", "--depth", "3", "--json"]) == 0
    book = json.loads(capsys.readouterr().out)
    text = json.dumps(book)
    assert "4810.25" in text
    assert "4810.5" in text
    out = tmp_path / "run"
    assert main(["backtest", path, "--strategy", "market_maker", "--out", str(out)]) == 0
    with (out / "fills.csv").open() as f:
        assert len(list(csv.DictReader(f))) > 0
