"""``replayterm bars FILES --interval 1m``: OHLC, volume, buy/sell volume, trades and VWAP per bar."""

from __future__ import annotations

import argparse

from replayterm.commands._flow import add_common, open_flow, print_table, run_guarded, time_range


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bars",
        help="candles from trades: time, tick, volume or notional bars",
        description="Bars from the trades of FILEs, exactly as the app draws them: open/high/low/close, "
        "volume, buy (aggressive buyer) and sell volume, delta, trade count, notional and VWAP. Time "
        "bars are aligned to UTC; tick/volume/notional bars are counted from the first trade of the data.",
    )
    add_common(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    def body() -> int:
        start, end = time_range(args)
        flow, _name = open_flow(args)
        print_table(flow.bars(args.interval, start, end), args)
        return 0

    return run_guarded("bars", body)
