"""Malformed files of every sort: only DataError (naming the file) may come out, never a crash.

About 1,300 generated files in total across the tests below.
"""

from __future__ import annotations

import atexit
import gzip
import shutil
import tempfile
from pathlib import Path

from data_helpers import DERIV_HEADER, L2_HEADER, QUOTES_HEADER, TRADES_HEADER
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replayterm.core.data import DataError, Source, open_sources
from replayterm.core.data.model import SCHEMAS

FUZZ = settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
_DIR = Path(tempfile.mkdtemp(prefix="replayterm-fuzz-"))
atexit.register(shutil.rmtree, _DIR, True)

HEADERS = [L2_HEADER, TRADES_HEADER, QUOTES_HEADER, DERIV_HEADER]
SNAPSHOT_HEADER = "exchange,symbol,timestamp,local_timestamp," + ",".join(
    f"{s}[{i}].{f}" for i in range(2) for s in ("asks", "bids") for f in ("price", "amount")
)
GOOD_ROWS = {
    L2_HEADER: [
        "ex,A,1000,2000,true,bid,99.5,1",
        "ex,A,1000,2000,true,ask,100.5,2",
        "ex,A,1100,2100,false,bid,99.5,0",
    ],
    TRADES_HEADER: [
        "ex,A,10,20,abc-1,sell,8531.5,2152",
        "ex,A,11,21,42,buy,8532,1",
        "ex,B,12,19,43,unknown,1,1",
    ],
    QUOTES_HEADER: ["ex,A,10,20,0.84,9682,9681.92,0.67", "ex,A,11,21,,,9681.5,1"],
    DERIV_HEADER: ["ex,A,10,20,1585728000000000,0.0001,0.0002,100,6421.5,6420,6421", "ex,A,11,21,,,,,6422,,"],
    SNAPSHOT_HEADER: ["ex,A,10,20,101,1,99,2,102,3,98,4", "ex,A,11,21,101,5,99,6,,,98,7"],
}
CELLS = st.one_of(
    st.sampled_from(
        ["", "nan", "inf", "-1", "1e400", "bid", "ask", "buy", "true", "x", "0x10", " 7 ", '"q"', "1,2"]
    ),
    st.text(max_size=8),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


def _open(path: Path) -> list[Source] | DataError:
    try:
        return open_sources(path, use_cache=False)
    except DataError as err:  # the only exception allowed out
        return err


def _check(data: bytes, name: str = "fuzz.csv") -> None:
    path = _DIR / name
    path.write_bytes(data)
    outcome = _open(path)
    if isinstance(outcome, DataError):
        assert str(path) in str(outcome)
        assert outcome.explanation
    else:
        for src in outcome:
            assert src.table.schema.equals(SCHEMAS[src.kind])


@settings(FUZZ, max_examples=250)
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    _check(data)


@settings(FUZZ, max_examples=150)
@given(st.sampled_from(list(GOOD_ROWS)), st.binary(max_size=300), st.booleans())
def test_header_then_random_bytes(header: str, tail: bytes, packed: bool) -> None:
    data = header.encode() + b"\n" + tail
    _check(gzip.compress(data) if packed else data, "fuzz.csv.gz" if packed else "fuzz.csv")


@settings(FUZZ, max_examples=200)
@given(st.sampled_from(list(GOOD_ROWS)), st.data())
def test_cut_lines_and_truncated_gzip(header: str, data: st.DataObject) -> None:
    text = ("\n".join([header, *GOOD_ROWS[header] * 3]) + "\n").encode()
    packed = data.draw(st.booleans())
    blob = gzip.compress(text) if packed else text
    cut = data.draw(st.integers(min_value=0, max_value=len(blob)))
    _check(blob[:cut], "cut.csv.gz" if packed else "cut.csv")


@settings(FUZZ, max_examples=200)
@given(
    st.lists(
        st.sampled_from(
            [
                "exchange",
                "symbol",
                "timestamp",
                "local_timestamp",
                "is_snapshot",
                "side",
                "price",
                "amount",
                "id",
                "ask_price",
                "bid_amount",
                "asks[0].price",
                "bids[3].amount",
                "local_ts",
                "funding_rate",
                "",
            ]
        )
        | st.text(max_size=6),
        max_size=10,
    ),
    st.sampled_from(list(GOOD_ROWS)),
)
def test_wrong_headers(names: list[str], rows_of: str) -> None:
    text = "\n".join([",".join(names), *GOOD_ROWS[rows_of]]) + "\n"
    _check(text.encode())


@settings(FUZZ, max_examples=150)
@given(st.sampled_from(list(GOOD_ROWS)), st.permutations(range(8)))
def test_swapped_columns(header: str, order: list[int]) -> None:
    names = header.split(",")
    order = [i for i in order if i < len(names)] + list(range(8, len(names)))
    swapped = ",".join(names[i] for i in order)
    _check(("\n".join([swapped, *GOOD_ROWS[header]]) + "\n").encode())


@settings(FUZZ, max_examples=250)
@given(st.sampled_from(list(GOOD_ROWS)), st.data())
def test_bad_values(header: str, data: st.DataObject) -> None:
    rows = [r.split(",") for r in GOOD_ROWS[header]]
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        row = data.draw(st.integers(min_value=0, max_value=len(rows) - 1))
        col = data.draw(st.integers(min_value=0, max_value=len(rows[row]) - 1))
        rows[row][col] = data.draw(CELLS)
    text = "\n".join([header, *(",".join(r) for r in rows)]) + "\n"
    packed = data.draw(st.booleans())
    blob = text.encode("utf-8", "surrogatepass")
    _check(gzip.compress(blob) if packed else blob, "bad.csv.gz" if packed else "bad.csv")


@settings(FUZZ, max_examples=150)
@given(st.sampled_from(list(GOOD_ROWS)), st.data())
def test_flipped_bytes(header: str, data: st.DataObject) -> None:
    blob = bytearray(("\n".join([header, *GOOD_ROWS[header]]) + "\n").encode())
    packed = data.draw(st.booleans())
    if packed:
        blob = bytearray(gzip.compress(bytes(blob)))
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        i = data.draw(st.integers(min_value=0, max_value=len(blob) - 1))
        blob[i] = data.draw(st.integers(min_value=0, max_value=255))
    _check(bytes(blob), "flip.csv.gz" if packed else "flip.csv")
