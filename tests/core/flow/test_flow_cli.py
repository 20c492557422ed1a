"""The order-flow commands print what the core computes, as text, CSV and JSON; bad input is one
clear line and an exit code, never a traceback."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import numpy as np
import pytest
from flow_helpers import open_flow

from replayterm.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_bars_csv_and_json_are_the_core_table(
    generated_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flow, _ = open_flow([generated_file])
    table = flow.bars("5m")
    code, out, _ = _run(capsys, "bars", str(generated_file), "--interval", "5m", "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == len(table)
    np.testing.assert_array_equal([float(r["close"]) for r in rows], table.columns["close"])
    np.testing.assert_array_equal([float(r["volume"]) for r in rows], table.columns["volume"])
    assert rows[0]["start"].endswith("Z")
    code, out, _ = _run(capsys, "bars", str(generated_file), "--interval", "5m", "--json")
    assert code == 0
    doc = json.loads(out)
    assert [d["vwap"] for d in doc] == table.columns["vwap"].tolist()


def test_footprint_profile_cvd_vwap_commands(
    generated_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flow, _ = open_flow([generated_file])
    lo, hi = flow.span
    start, end = str(lo + (hi - lo) // 3), str(hi - (hi - lo) // 3)
    code, out, _ = _run(
        capsys, "footprint", str(generated_file), "--group-ticks", "4", "--from", start, "--to", end, "--json"
    )
    assert code == 0
    doc = json.loads(out)
    expect = flow.footprint("1m", int(start), int(end), group_ticks=4)[1]
    assert [d["ask_volume"] for d in doc] == expect.columns["ask_volume"].tolist()
    code, out, _ = _run(
        capsys, "profile", str(generated_file), "--from", start, "--to", end, "--group-ticks", "2", "--json"
    )
    assert code == 0
    doc = json.loads(out)
    summary = flow.profile(int(start), int(end), 2).summary()
    assert (doc["poc"], doc["vah"], doc["val"]) == (summary["poc"], summary["vah"], summary["val"])
    code, out, _ = _run(capsys, "profile", str(generated_file), "--sessions", "--json")
    assert code == 0
    assert len(json.loads(out)) == 2  # the data crosses UTC midnight
    code, out, _ = _run(capsys, "cvd", str(generated_file), "--interval", "1h", "--csv")
    assert code == 0
    closes = [float(r["close"]) for r in csv.DictReader(io.StringIO(out))]
    assert closes == flow.cvd("1h").columns["close"].tolist()
    code, out, _ = _run(capsys, "vwap", str(generated_file), "--interval", "10m")
    assert code == 0
    assert "upper_2" in out.splitlines()[0]


@pytest.mark.parametrize(
    ("argv", "message", "exit_code"),
    [
        (["bars", "{f}", "--interval", "7x"], "bad interval '7x'", 2),
        (["bars", "{f}", "--interval", "0.5s"], "whole seconds", 2),
        (["bars", "{f}", "--from", "yesterday"], "not a time", 2),
        (["bars", "{f}", "--from", "2024-07-20", "--to", "2024-07-19"], "--to is before --from", 2),
        (["footprint", "{f}", "--group-ticks", "0"], "--group-ticks must be 1 or more", 2),
        (["profile", "{f}", "--value-area", "70"], "--value-area is a share", 2),
        (["profile", "{f}", "--sessions", "25:00"], "bad session time", 2),
        (["cvd", "/no/such/file.csv"], "file not found", 1),
    ],
)
def test_bad_input_is_one_clear_line(
    generated_file: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str, exit_code: int
) -> None:
    code, _out, err = _run(capsys, *[a.replace("{f}", str(generated_file)) for a in argv])
    assert code == exit_code
    assert message in err
    assert "Traceback" not in err


def test_a_book_file_without_trades_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x_incremental_book_L2_2024-07-19_BTC.csv"
    path.write_text(
        "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"
        "x,BTC,1,1,true,bid,10,1\nx,BTC,1,1,true,ask,11,1\n"
    )
    code, _out, err = _run(capsys, "bars", str(path))
    assert code == 2
    assert "order flow is computed from a trades file" in err


def test_the_cli_and_the_app_share_one_stored_table(
    generated_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from replayterm.core.flow.opening import open_file_flows

    assert main(["bars", str(generated_file), "--json"]) == 0
    cli_out = json.loads(capsys.readouterr()[0])
    before = time.time_ns()
    flows = open_file_flows([str(generated_file)])
    (flow,) = flows.values()
    assert flow.index.folder is not None
    manifest = flow.index.folder / "manifest.json"
    stamp = manifest.stat().st_mtime_ns
    assert stamp < before  # written by the CLI run, mapped by the app's open
    again = next(iter(open_file_flows([str(generated_file)]).values()))
    assert manifest.stat().st_mtime_ns == stamp  # mapped, not rebuilt
    assert [r["close"] for r in cli_out] == again.bars("1m").columns["close"].tolist()
