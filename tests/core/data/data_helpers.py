"""Constants and writers shared by the data-layer tests."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

L2_HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"
TRADES_HEADER = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"
QUOTES_HEADER = "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount"
DERIV_HEADER = (
    "exchange,symbol,timestamp,local_timestamp,funding_timestamp,funding_rate,predicted_funding_rate,"
    "open_interest,last_price,index_price,mark_price"
)

L2_ROWS = [
    "ex,AAA,1000,2000,true,bid,99.5,1",
    "ex,AAA,1000,2000,true,ask,100.5,2",
    "ex,AAA,1100,2100,false,bid,99.5,0",
    "ex,AAA,1200,2200,false,ask,100,3.5",
]

Writer = Callable[..., Path]


def write_file(path: Path, text: str | bytes, gz: bool = False) -> Path:
    data = text.encode() if isinstance(text, str) else text
    if gz:
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path
