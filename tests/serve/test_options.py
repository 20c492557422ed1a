from __future__ import annotations

import json

import pytest

from replayterm.serve.catalog import Catalog
from replayterm.serve.options import OptionsError, parse_data_types, parse_options


def test_data_types_are_parsed_like_tardis_machine() -> None:
    t = parse_data_types(
        ["trade", "book_snapshot_25_100ms", "book_snapshot_5_grouped10_1s", "quote", "quote_1m",
         "trade_bar_10ticks", "trade_bar_5s", "trade_bar_2.5vol", "book_change"]
    )  # fmt: skip
    assert t.trade
    assert t.book_change
    assert [(s.depth, s.interval_ms, s.grouping) for s in t.snapshots] == [
        (25, 100, 0.0), (5, 1000, 10.0), (1, 0, 0.0), (1, 60_000, 0.0)
    ]  # fmt: skip
    assert [(b.kind, b.interval) for b in t.trade_bars] == [("tick", 10), ("time", 5000), ("volume", 2.5)]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (None, "missing"),
        ("{not json", "not valid JSON"),
        ("42", "object"),
        ('{"dataTypes":["trade"]}', '"exchange" is required'),
        ('{"exchange":"nope","dataTypes":["trade"]}', "exchange 'nope' is not in the served files"),
        ('{"exchange":"synthetic","dataTypes":["trades"]}', "unknown data type 'trades'"),
        ('{"exchange":"synthetic","dataTypes":[]}', "non-empty list"),
        ('{"exchange":"synthetic","symbols":["BTCUSD"],"dataTypes":["trade"]}', "symbol 'BTCUSD' is not"),
        ('{"exchange":"synthetic","symbols":"SYNTHUSD","dataTypes":["trade"]}', "list of symbol"),
        ('{"exchange":"synthetic","from":"2024-01-03","to":"2024-01-02","dataTypes":["trade"]}', "before"),
        ('{"exchange":"synthetic","from":"yesterday","dataTypes":["trade"]}', '"from"'),
        ('{"exchange":"synthetic","dataTypes":["book_snapshot_0_100ms"]}', "depth must be"),
        ('[{"exchange":"synthetic","dataTypes":["trade"]}, 3]', "array of objects"),
    ],
)
def test_bad_options_say_what_is_wrong(catalog: Catalog, options: str | None, message: str) -> None:
    with pytest.raises(OptionsError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_options(options, catalog)


def test_an_array_of_options_is_one_request(catalog: Catalog) -> None:
    opts = [
        {
            "exchange": "synthetic",
            "symbols": ["synthusd"],
            "dataTypes": ["trade"],
            "from": "2024-01-02T00:01:00Z",
        },
        {"exchange": "synthetic", "dataTypes": ["book_change"], "to": "2024-01-02T00:02:00Z"},
    ]
    req = parse_options(json.dumps(opts), catalog)
    assert len(req.selections) == 2
    assert req.selections[0].markets[0].symbol == "SYNTHUSD"
    span = catalog.span
    assert span is not None
    assert (req.from_ts, req.to_ts) == (span[0], span[1] + 1)  # the union of the ranges
