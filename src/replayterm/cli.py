"""The ``replayterm`` command: no subcommand opens the GUI, a subcommand runs headless.

Each subcommand lives in ``replayterm.commands.<name>`` and exposes ``register(subparsers)``
which adds its parser and sets ``func`` (called with the parsed namespace, returns an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from replayterm import __version__

SUBCOMMANDS = ("info", "sample", "book", "export", "backtest", "convert", "sweep")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="replayterm",
        description="Market-replay terminal. Without a subcommand, opens the desktop app on FILEs "
        "(or on the bundled sample).",
    )
    parser.add_argument("--version", action="version", version=f"replayterm {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"replayterm.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"replayterm.commands.{name}":
                continue  # not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    known = set(parser._subparsers._group_actions[0].choices) if parser._subparsers else set()  # type: ignore[union-attr]
    if not args_list or (args_list[0] not in known and args_list[0] not in ("-h", "--help", "--version")):
        from replayterm.qt.app import main as gui_main

        return gui_main(args_list)
    args = parser.parse_args(args_list)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    return int(args.func(args))
