"""The execution options ``sweep`` shares with ``backtest``: the instrument and callback budget
``backtest`` adds itself, plus every option of ``execution_args`` (latency, fees, fill rules, queue
model, cash, metrics interval, sampling), read back with ``backtest``'s own conversion, so a sweep
row and a ``backtest`` of the same parameters run with identical settings."""

from __future__ import annotations

import argparse

from replayterm.commands import execution_args
from replayterm.commands.backtest import add_run_arguments, settings_from_args
from replayterm.core.session import SessionSettings


def add_execution_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_arguments(parser)
    execution_args.add_execution_arguments(parser)


def execution_settings_from_args(args: argparse.Namespace) -> SessionSettings:
    return settings_from_args(args)
