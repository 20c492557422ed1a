"""``replayterm book`` prints what the data holds, digit for digit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replayterm.cli import main

HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"


def _precise_book(tmp_path: Path) -> Path:
    path = tmp_path / "ex_incremental_book_L2_AAA.csv"
    rows = [
        "ex,AAA,1000,2000,true,bid,104523.45,1.234567",
        "ex,AAA,1000,2000,true,bid,104523.4,0.00012345",
        "ex,AAA,1000,2000,true,ask,104523.46,12345678.9",
        "ex,AAA,1000,2000,true,ask,104523.5,0.3",
    ]
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def test_book_text_prints_full_precision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["book", str(_precise_book(tmp_path)), "--at", "3000"]) == 0
    out = capsys.readouterr().out
    for text in ("104523.45", "1.234567", "104523.4\n", "0.00012345", "104523.46", "12345678.9"):
        assert text in out
    # derived values are rounded to the data's own precision, not shown with float noise
    assert "mid 104523.455 " in out
    assert "spread 0.01\n" in out


def test_book_json_spread_has_no_float_noise(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["book", str(_precise_book(tmp_path)), "--at", "3000", "--json"]) == 0
    book = json.loads(capsys.readouterr().out)
    assert book["bids"][0] == [104523.45, 1.234567]
    assert book["spread"] == 0.01
    assert book["mid"] == 104523.455
