"""Hand-made Tardis CSV files of every type, small enough to check by eye."""

from __future__ import annotations

from pathlib import Path

S = 1_000_000  # µs per second
T0 = 1_700_000_000 * S


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


QUOTE_HEADER = "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount"
TRADE_HEADER = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"


def quotes(folder: Path, ex: str = "binance-futures", sym: str = "BTCUSDT") -> Path:
    # ask_amount, ask_price, bid_price, bid_amount
    rows = [
        f"{ex},{sym},{T0 + 1 * S},{T0 + 1 * S},2.0,100.5,100.0,3.0",
        f"{ex},{sym},{T0 + 2 * S},{T0 + 2 * S},1.0,100.5,100.0,3.0",
        f"{ex},{sym},{T0 + 3 * S},{T0 + 3 * S},1.0,101.0,100.5,0.5",
        f"{ex},{sym},{T0 + 3 * S},{T0 + 3 * S},1.5,101.0,100.5,0.7",  # same receive time: last wins
        f"{ex},{sym},{T0 + 5 * S},{T0 + 5 * S},4.0,101.5,101.0,2.0",
    ]
    return write(folder / f"{ex}_quotes_2023-11-14_{sym}.csv", QUOTE_HEADER, rows)


def book_ticker(folder: Path, ex: str = "binance-futures", sym: str = "BTCUSDT") -> Path:
    rows = [
        f"{ex},{sym},{T0 + 1 * S},{T0 + 1 * S},2.0,100.5,100.0,3.0",
        f"{ex},{sym},{T0 + 2 * S + 5},{T0 + 2 * S + 5},2.0,100.5,100.0,1.0",
        f"{ex},{sym},{T0 + 4 * S},{T0 + 4 * S},2.0,100.5,99.5,1.0",  # disagrees with the book below
    ]
    return write(
        folder / f"{ex}_book_ticker_2023-11-14_{sym}.csv",
        "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount",
        rows,
    )


def l2(folder: Path, ex: str = "binance-futures", sym: str = "BTCUSDT") -> Path:
    rows = [
        f"{ex},{sym},{T0 + 1 * S},{T0 + 1 * S},true,bid,100.0,3.0",
        f"{ex},{sym},{T0 + 1 * S},{T0 + 1 * S},true,bid,99.5,4.0",
        f"{ex},{sym},{T0 + 1 * S},{T0 + 1 * S},true,ask,100.5,2.0",
        f"{ex},{sym},{T0 + 1 * S},{T0 + 1 * S},true,ask,101.0,5.0",
        f"{ex},{sym},{T0 + 3 * S},{T0 + 3 * S},false,bid,100.0,1.0",
        f"{ex},{sym},{T0 + 5 * S},{T0 + 5 * S},false,ask,100.5,2.5",
    ]
    return write(
        folder / f"{ex}_incremental_book_L2_2023-11-14_{sym}.csv",
        "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount",
        rows,
    )


def trades(folder: Path, ex: str = "binance-futures", sym: str = "BTCUSDT") -> Path:
    rows = [
        f"{ex},{sym},{T0 + 2 * S},{T0 + 2 * S},1,buy,100.5,0.1",
        f"{ex},{sym},{T0 + 4 * S},{T0 + 4 * S},2,sell,100.5,0.2",
        f"{ex},{sym},{T0 + 6 * S},{T0 + 6 * S},3,buy,101.5,0.3",
    ]
    return write(
        folder / f"{ex}_trades_2023-11-14_{sym}.csv",
        "exchange,symbol,timestamp,local_timestamp,id,side,price,amount",
        rows,
    )


FUNDING_AT = T0 + 4 * S


def derivative_ticker(folder: Path, ex: str = "binance-futures", sym: str = "BTCUSDT") -> Path:
    # funding_timestamp, funding_rate, predicted_funding_rate, open_interest, last, index, mark
    nxt = FUNDING_AT + 8 * 3600 * S
    rows = [
        f"{ex},{sym},{T0 + 1 * S},{T0 + 1 * S},{FUNDING_AT},0.0001,0.0002,1000,100.2,100.0,100.25",
        f"{ex},{sym},{T0 + 3 * S},{T0 + 3 * S},{FUNDING_AT},0.0003,0.0002,1010,100.7,100.5,100.75",
        f"{ex},{sym},{T0 + 4 * S + 10},{T0 + 4 * S + 10},{nxt},0.0001,,1020,101.0,100.9,101.0",
        f"{ex},{sym},{T0 + 6 * S},{T0 + 6 * S},{nxt},,,1030,101.5,,101.2",
    ]
    return write(
        folder / f"{ex}_derivative_ticker_2023-11-14_{sym}.csv",
        "exchange,symbol,timestamp,local_timestamp,funding_timestamp,funding_rate,predicted_funding_rate,"
        "open_interest,last_price,index_price,mark_price",
        rows,
    )


def liquidations(folder: Path, ex: str = "binance-futures", sym: str = "BTCUSDT") -> Path:
    rows = [
        f"{ex},{sym},{T0 + 2 * S},{T0 + 2 * S},,sell,100.0,0.5",
        f"{ex},{sym},{T0 + 5 * S},{T0 + 5 * S},,buy,101.5,5.0",
    ]
    return write(
        folder / f"{ex}_liquidations_2023-11-14_{sym}.csv",
        "exchange,symbol,timestamp,local_timestamp,id,side,price,amount",
        rows,
    )
