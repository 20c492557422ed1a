"""Zero or negative prices are refused at read time with the file, the line and the value."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_helpers import DERIV_HEADER, L2_HEADER, L2_ROWS, QUOTES_HEADER, TRADES_HEADER, Writer

from replayterm.core.data import DataError, open_sources

SNAPSHOT_HEADER = (
    "exchange,symbol,timestamp,local_timestamp,asks[0].price,asks[0].amount,bids[0].price,bids[0].amount"
)


def _error(path: Path, use_cache: bool = False) -> DataError:
    with pytest.raises(DataError) as info:
        open_sources(path, use_cache=use_cache)
    err = info.value
    assert str(path) in str(err)
    assert "price is not positive" in err.explanation
    assert "greater than zero" in (err.hint or "")
    return err


@pytest.mark.parametrize("price", ["0", "-100", "-0.5"])
@pytest.mark.parametrize("use_cache", [False, True])
def test_book_row_with_bad_price(write: Writer, price: str, use_cache: bool) -> None:
    path = write("l2.csv", L2_HEADER, *L2_ROWS, f"ex,AAA,1300,2300,false,bid,{price},1", *L2_ROWS[2:])
    err = _error(path, use_cache)
    assert (err.line, err.column, err.value) == (6, "price", price)  # as the file writes it


@pytest.mark.parametrize("price", ["0", "-7"])
def test_trade_with_bad_price(write: Writer, price: str) -> None:
    path = write("t.csv.gz", TRADES_HEADER, "ex,A,1,2,7,buy,1,1", f"ex,A,1,2,8,sell,{price},1", gz=True)
    err = _error(path)
    assert (err.line, err.column, err.value) == (3, "price", price)


def test_liquidation_with_bad_price(write: Writer) -> None:
    path = write("x_liquidations.csv", TRADES_HEADER, "ex,A,1,2,7,buy,0,1")
    assert (_error(path).line, _error(path).column) == (2, "price")


@pytest.mark.parametrize(
    ("column", "row"), [("ask_price", "ex,A,1,2,1,0,99,1"), ("bid_price", "ex,A,1,2,1,100,-1,1")]
)
def test_quote_with_bad_price(write: Writer, column: str, row: str) -> None:
    err = _error(write("q.csv", QUOTES_HEADER, "ex,A,1,2,1,100,99,1", row))
    assert (err.line, err.column) == (3, column)


def test_quote_with_an_empty_side_is_fine(write: Writer) -> None:
    (src,) = open_sources(write("q.csv", QUOTES_HEADER, "ex,A,1,2,,,99,1"), use_cache=False)
    assert src.rows == 1


def test_derivative_ticker_with_bad_mark_price(write: Writer) -> None:
    err = _error(write("d.csv", DERIV_HEADER, "ex,A,1,2,3,0.0001,0.0001,100,50000,50000,0"))
    assert (err.line, err.column, err.value) == (2, "mark_price", "0")


def test_derivative_ticker_zero_rates_are_fine(write: Writer) -> None:
    (src,) = open_sources(write("d.csv", DERIV_HEADER, "ex,A,1,2,3,0,0,0,50000,,"), use_cache=False)
    assert src.rows == 1


def test_book_snapshot_level_with_bad_price(write: Writer) -> None:
    path = write("s_book_snapshot_1.csv", SNAPSHOT_HEADER, "ex,A,1,2,101,1,99,1", "ex,A,1,3,101,1,0,2")
    err = _error(path)
    assert (err.line, err.column, err.value) == (3, "bids[0].price", "0")
