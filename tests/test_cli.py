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
