"""The execution options ``sweep`` shares with ``backtest`` (latency, fees, slippage, queue model,
cash, sampling, callback budget, instrument), read back with ``backtest``'s own conversion.

Kept in one place so that ``sweep`` takes exactly the options ``backtest`` takes; when the
options move to a module of their own, ``sweep`` imports them from there instead.
"""

from __future__ import annotations

import argparse

from replayterm.commands.backtest import settings_from_args
from replayterm.core.session import QUEUE_MODELS, SessionSettings


def add_execution_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--instrument", metavar="SYMBOL", help="the instrument strategies trade (default: the first one)"
    )
    parser.add_argument(
        "--latency-us",
        metavar="ENTRY[,RESPONSE]",
        help="order latency on the replay axis in µs: an order meets the book ENTRY µs after it is "
        "sent, answers reach the strategy RESPONSE µs (default 0) after the exchange acts. "
        "Default: estimated from the data's local-vs-exchange time skew",
    )
    parser.add_argument(
        "--fees-bps", metavar="MAKER,TAKER", help="fees in bps of notional; negative = rebate"
    )
    parser.add_argument(
        "--slippage-bps", type=float, metavar="BPS", help="extra price slippage on taker fills"
    )
    parser.add_argument("--queue", choices=QUEUE_MODELS, default="risk-averse", help="queue-position model")
    parser.add_argument(
        "--cash", type=float, default=0.0, metavar="AMOUNT", help="initial cash of each account"
    )
    parser.add_argument(
        "--sample-ms", type=float, default=100.0, metavar="MS", help="equity sampling interval (default 100)"
    )
    parser.add_argument(
        "--budget-s",
        type=float,
        metavar="S",
        help="stop (and report) a strategy whose single callback runs longer than S seconds",
    )


def execution_settings_from_args(args: argparse.Namespace) -> SessionSettings:
    return settings_from_args(args)
