"""The ``replayterm`` dispatcher: subcommands, files for the app, and typos."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from replayterm import cli


@pytest.fixture
def gui_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Replace the desktop app's entry point: record what it would have opened."""
    import replayterm.qt.app

    calls: list[list[str]] = []

    def fake_gui(argv: list[str]) -> int:
        calls.append(list(argv))
        return 0

    monkeypatch.setattr(replayterm.qt.app, "main", fake_gui)
    return calls


def test_unknown_command_is_refused_with_the_list_of_commands(
    gui_calls: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["serve-typo", "x"]) == 2
    assert gui_calls == []
    err = capsys.readouterr().err
    assert "unknown command 'serve-typo'" in err
    for name in cli.registered_commands(cli.build_parser()):
        assert name in err


def test_list_of_commands_comes_from_the_registered_subcommands(
    monkeypatch: pytest.MonkeyPatch, gui_calls: list[list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    real_build = cli.build_parser

    def build_with_extra() -> argparse.ArgumentParser:
        parser = real_build()
        (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        extra = subparsers.add_parser("frobnicate", help="a command added later")
        extra.set_defaults(func=lambda _args: 0)
        return parser

    monkeypatch.setattr(cli, "build_parser", build_with_extra)
    assert cli.main(["nope"]) == 2
    assert "frobnicate" in capsys.readouterr().err
    assert cli.main(["frobnicate"]) == 0


def test_existing_files_still_open_the_app(gui_calls: list[list[str]], tmp_path: Path) -> None:
    data = tmp_path / "book.csv"
    data.write_text("x\n")
    assert cli.main([str(data)]) == 0
    assert gui_calls == [[str(data)]]
    assert cli.main([]) == 0
    assert gui_calls[-1] == []


def test_a_missing_data_file_is_named_as_such(
    gui_calls: list[list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "gone.csv.gz"
    assert cli.main([str(missing)]) == 2
    assert gui_calls == []
    err = capsys.readouterr().err
    assert f"no such file: {missing}" in err


# -- issue 19, item 12: CLI edges ---------------------------------------------------------------
SAMPLE = Path(__file__).resolve().parents[1] / "data"


def _sample() -> list[str]:
    files = sorted(SAMPLE.glob("*incremental_book_L2*.csv.gz")) + sorted(SAMPLE.glob("*trades*.csv.gz"))
    if len(files) != 2:
        pytest.skip("the bundled sample is not present")
    return [str(f) for f in files]


def test_book_accepts_a_time_of_day_on_the_date_of_the_data(capsys: pytest.CaptureFixture[str]) -> None:
    book = _sample()[:1]
    assert cli.main(["book", *book, "--at", "2024-01-02T00:02:00Z", "--json"]) == 0
    full = capsys.readouterr().out
    assert cli.main(["book", *book, "--at", "00:02:00", "--json"]) == 0
    assert capsys.readouterr().out == full
    assert cli.main(["book", *book, "--at", "25:00", "--json"]) == 2
    assert "not a time" in capsys.readouterr().err


def test_a_closed_pipe_ends_the_output_quietly(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)  # like `| head` that has already exited
    env = {**os.environ, "REPLAYTERM_CACHE_DIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-m", "replayterm", "cache", "list", "--json"],
        stdout=write, stderr=subprocess.PIPE, text=True, timeout=60, env=env,
    )  # fmt: skip
    os.close(write)
    assert "Traceback" not in run.stderr, run.stderr
    assert "BrokenPipeError" not in run.stderr
    assert run.returncode == 141, run.stderr  # what a shell reports for a command ended by SIGPIPE


@pytest.mark.parametrize("value", ["-1e9", "-0.5", "-2.5E-3"])
def test_a_negative_number_needs_no_equals_sign(value: str) -> None:
    parser = cli.build_parser()
    base = ["backtest", "x.csv", "-s", "market_maker", "-o", "out"]
    assert (
        parser.parse_args([*base, "--cash", value]).cash == parser.parse_args([*base, f"--cash={value}"]).cash
    )


def test_from_after_to_is_reported_as_an_inverted_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = _sample()
    window = ["--from", "2024-01-02T00:05:00Z", "--to", "2024-01-02T00:02:00Z"]
    assert cli.main(["backtest", *files, "-s", "market_maker", *window, "-o", str(tmp_path / "b")]) == 2
    assert "--from 2024-01-02T00:05:00Z is not before --to 2024-01-02T00:02:00Z" in capsys.readouterr().err
    export = ["export", *files, "--book-snapshot", "5", "--interval", "1000", *window]
    assert cli.main([*export, "--out", str(tmp_path / "e.csv")]) == 2
    assert "is not before --to" in capsys.readouterr().err
    assert cli.main(["sweep", *files, "-s", "market_maker", *window, "-o", str(tmp_path / "s")]) == 2
    assert "is not before --to" in capsys.readouterr().err


def test_messages_quote_the_value_as_the_file_has_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "nan.csv"
    header = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"
    bad.write_text(f"{header}\nbinance,BTC,1,1,true,bid,NaN,1\nbinance,BTC,2,2,true,ask,101,1\n")
    assert cli.main(["info", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "line 2" in err
    assert "'NaN'" in err, err


def test_random_bytes_named_gz_are_not_a_gzip_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = tmp_path / "random.csv.gz"
    fake.write_bytes(bytes(range(7, 256)) * 20)
    assert cli.main(["info", str(fake)]) == 1
    err = capsys.readouterr().err
    assert "not a gzip file" in err, err
    assert "header" not in err
