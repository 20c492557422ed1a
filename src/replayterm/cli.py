"""The ``replayterm`` command: no subcommand opens the GUI, a subcommand runs headless.

Each subcommand lives in ``replayterm.commands.<name>`` and exposes ``register(subparsers)``
which adds its parser and sets ``func`` (called with the parsed namespace, returns an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from replayterm import __version__

SUBCOMMANDS = (
    "info",
    "sample",
    "book",
    "export",
    "backtest",
    "convert",
    "cache",
    "doctor",
    "serve",
    "sweep",
    "bars",
    "footprint",
    "profile",
    "cvd",
    "vwap",
    "queue-calibrate",
    "explain",
)


EXIT_BROKEN_PIPE = 141  # what a shell reports for a command ended by SIGPIPE
# A number such as -1e9, -.5 or -0.5,4 (a list) is a value, never an option: argparse itself only
# recognises -5 and -0.5, so "--cash -1e9" used to need "--cash=-1e9".
_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?(,[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)*$")


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBER


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="replayterm",
        description="Market-replay terminal. Without a subcommand, opens the desktop app on FILEs "
        "(or on the bundled sample).",
    )
    parser.add_argument("--version", action="version", version=f"replayterm {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"replayterm.commands.{name.replace('-', '_')}")
        except ModuleNotFoundError as exc:
            if exc.name == f"replayterm.commands.{name.replace('-', '_')}":
                continue  # not built yet
            raise
        module.register(subparsers)
    return parser


def registered_commands(parser: argparse.ArgumentParser) -> list[str]:
    """The subcommands the parser knows, in registration order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def _refuse_first_argument(first: str, commands: Sequence[str]) -> int:
    """A first argument that is neither a subcommand nor an existing file: say so, exit 2."""
    looks_like_path = os.sep in first or "/" in first or Path(first).suffix != ""
    if looks_like_path:
        print(f"replayterm: no such file: {first}", file=sys.stderr)
    else:
        print(f"replayterm: unknown command '{first}' (and no file of that name)", file=sys.stderr)
    print(f"commands: {', '.join(commands)}", file=sys.stderr)
    print(
        "Run 'replayterm --help' for usage, or 'replayterm FILE...' to open files in the app.",
        file=sys.stderr,
    )
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    commands = registered_commands(parser)
    first = args_list[0] if args_list else None
    if first is None or (first.startswith("-") and first not in ("-h", "--help", "--version")):
        from replayterm.desktop import main as gui_main

        return gui_main(args_list)
    if first not in commands and not first.startswith("-"):
        from replayterm.core.data.postgres.query import is_database_url

        if not Path(first).exists() and not is_database_url(first):
            return _refuse_first_argument(first, commands)
        from replayterm.desktop import main as gui_main

        return gui_main(args_list)
    args = parser.parse_args(args_list)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as other command-line tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
