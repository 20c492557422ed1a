"""The compiled parsers of the Tardis layouts give exactly what the general (pyarrow) reader gives.

Every file is opened twice, once with ``REPLAYTERM_PARSER=general``: the tables must be equal value
for value, floats compared bit for bit (so ``-0.0`` against ``0.0`` or a last-bit difference fails),
and a file that the general reader refuses must be refused with the same message. Small blocks make
the generated files span many blocks, so blocks with an odd row go to the general reader while the
others are parsed by the compiled parser in the same file.
"""

from __future__ import annotations

import gzip
import os
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from replayterm.core.data import Cancelled, DataError, open_sources
from replayterm.core.data import csv_source as csv_source_module
from replayterm.core.data.fast_parse import tardis_header
from replayterm.core.data.layout import COMMON, SPECIFIC, Layout, level_columns
from replayterm.core.data.model import Kind, Source
from replayterm.core.data.synthetic import generate_files

Opened = tuple[list[Source] | None, str | None]


def _open(path: Path, parser: str, monkeypatch: pytest.MonkeyPatch) -> Opened:
    monkeypatch.setenv("REPLAYTERM_PARSER", parser)
    try:
        return open_sources(path, use_cache=False), None
    except DataError as exc:
        return None, str(exc)


def _bits(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    array = column.combine_chunks()
    valid = ~np.asarray(array.is_null())
    values = array.to_numpy(zero_copy_only=False).astype(np.float64)
    return values.view(np.int64)[valid], valid


def assert_same(general: list[Source], compiled: list[Source]) -> None:
    assert [(s.exchange, s.symbol, s.kind, s.rows) for s in general] == [
        (s.exchange, s.symbol, s.kind, s.rows) for s in compiled
    ]
    for a, b in zip(general, compiled, strict=True):
        assert a.table.schema == b.table.schema
        assert a.unsorted_rows == b.unsorted_rows
        assert a.warnings == b.warnings
        for name in a.table.schema.names:
            left, right = a.table.column(name), b.table.column(name)
            if pa.types.is_floating(left.type):
                lb, lv = _bits(left)
                rb, rv = _bits(right)
                assert np.array_equal(lv, rv), name
                assert np.array_equal(lb, rb), name
            else:
                assert left.combine_chunks().equals(right.combine_chunks()), name


def compare(path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Open ``path`` both ways and check they agree; the compiled run's parser label."""
    general, general_error = _open(path, "general", monkeypatch)
    compiled, compiled_error = _open(path, "", monkeypatch)
    assert compiled_error == general_error
    if general is None:
        assert compiled is None
        return "error"
    assert compiled is not None
    assert all(s.parser == "general" for s in general)
    assert_same(general, compiled)
    return compiled[0].parser


def _shared_tardis_files(root: Path) -> list[Path]:
    binance = [
        p
        for pattern in ("*incremental_book_L2*", "*trades*", "*book_ticker_2024*")
        for p in sorted((root / "binance-futures").glob(pattern))
    ]
    return binance + sorted((root / "tardis-samples").glob("*.csv"))


@pytest.mark.realdata
def test_every_shared_tardis_file_is_parsed_compiled_and_equal(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _shared_tardis_files(shared_data)
    assert len(files) == 13
    for path in files:
        assert compare(path, monkeypatch) == "compiled", path.name


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_source_module, "BLOCK_SIZE", 2048)
    monkeypatch.setattr(csv_source_module, "READ_AHEAD_BYTES", 8192)


def test_generated_files_many_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_blocks: None
) -> None:
    files = generate_files(tmp_path, seed=3, target_book_rows=20_000)
    for path in sorted(tmp_path.glob("*.csv.gz")):
        assert compare(path, monkeypatch) == "compiled", path.name
    assert files is not None


# --- generated rows with edge cases ------------------------------------------------------------

EDGE_DECIMALS = [
    "1e5", "1.5E-3", "2.50000", "100.000000000000000000000", "0.1000000000000000055511151231257827",
    "123456789012345678901", "9007199254740993", "9007199254740992", "9007199254740991",
    "0.000000000000000000001", "0.0000000000000000000001", "1234567890.12345678", "00012.5",
    "-0", "-0.0", "-1.25", "1.", ".5", "+1.5", " 1.5", "1.5 ", "nan", "inf", "", '"12.5"',
    "0.30000000000000004", "4.35", "1e400", "0x10", "1,5",
    # m / 10**k with m > 2**53: float(m) / 10**k rounds twice and differs from the exact value.
    "6.3715520512183324", "90391172520459.55", "840.886217526361412", "912229.9848245923",
]  # fmt: skip
EDGE_INTEGERS = ["-5", "0001704153600000000", "", "12a", "1.0", "99999999999999999999", '"17"', "-"]
EDGE_WORDS = ["Bid", " ask", "BUY", "", "True", "1", "maybe", '"bid"']


def _decimal(rng: random.Random) -> str:
    """A plain positive decimal, sometimes with trailing zeros or many digits."""
    digits = rng.randint(0, 12)
    whole = rng.choice(["0", str(rng.randint(1, 99_999))])
    text = whole if digits == 0 else f"{whole}.{rng.randint(1, 10**digits - 1):0{digits}d}"
    if rng.random() < 0.1:
        text += "0" * rng.randint(1, 6) if "." in text else ".000"
    return "1" if float(text) == 0 else text


def _row(layout: Layout, rng: random.Random, odd: float, row: int) -> tuple[list[str], bool]:
    symbol = rng.choice(["AAA", "AAA", "AAA", "BBB"]) if rng.random() < 0.9 else "S" + str(rng.randint(0, 99))
    fields = ["ex", symbol, str(1_700_000_000_000_000 + row), str(1_700_000_000_000_000 + row * 3)]
    for name in layout.columns[4:]:
        if name == "is_snapshot":
            fields.append(rng.choice(["true", "false"]))
        elif name == "side":
            choices = ["bid", "ask"] if layout.kind is Kind.BOOK else ["buy", "sell", "unknown"]
            fields.append(rng.choice(choices))
        elif name == "id":
            fields.append(rng.choice([str(row), f"id-{row}", ""]))
        elif name == "funding_timestamp":
            fields.append(rng.choice(["", str(1_700_000_000_000_000)]))
        else:
            fields.append(_decimal(rng))
            if layout.kind in (Kind.QUOTES, Kind.BOOK_TICKER, Kind.DERIVATIVE_TICKER) and rng.random() < 0.1:
                fields[-1] = ""
            if name == "funding_rate" and rng.random() < 0.3:
                fields[-1] = "-" + fields[-1] if fields[-1] else ""
    if layout.kind is Kind.BOOK_SNAPSHOT and rng.random() < 0.3:  # a shallow book: last levels empty
        keep = 4 + 2 * rng.randint(1, (len(fields) - 4) // 2)
        fields[keep:] = [""] * (len(fields) - keep)
    if rng.random() >= odd:
        return fields, False
    where = rng.randrange(len(fields))
    name = layout.columns[where]
    if name in ("timestamp", "local_timestamp", "funding_timestamp"):
        fields[where] = rng.choice(EDGE_INTEGERS)
    elif name in ("side", "is_snapshot"):
        fields[where] = rng.choice(EDGE_WORDS)
    elif name in ("exchange", "symbol", "id"):
        fields[where] = rng.choice(['"quoted"', "with space", "", "é", "x" * 100])
    else:
        fields[where] = rng.choice(EDGE_DECIMALS)
    return fields, True


def _layouts() -> list[Layout]:
    layouts = [Layout(kind, (*COMMON, *cols)) for kind, cols in SPECIFIC.items()]
    layouts.append(Layout(Kind.BOOK_SNAPSHOT, (*COMMON, *level_columns(3)), 3))
    return layouts


def _write(
    path: Path, layout: Layout, rows: list[list[str]], ending: str = "\n", last_newline: bool = True
) -> Path:
    lines = [",".join(tardis_header(layout)), *(",".join(r) for r in rows)]
    text = ending.join(lines) + (ending if last_newline else "")
    data = text.encode()
    if path.name.endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def _name(layout: Layout, suffix: str) -> str:
    return f"x_{layout.label}_{suffix}.csv"


@pytest.mark.parametrize("layout", _layouts(), ids=lambda lay: lay.label)
def test_edge_cases_match_the_general_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_blocks: None, layout: Layout
) -> None:
    """Only values both readers accept: the odd ones that are valid (exponents, long digit
    strings, trailing zeros, ...) must give the same doubles; whole files with a mix of plain
    and odd rows, CRLF and no newline at the end."""
    rng = random.Random(layout.label)
    labels = set()
    for case, (ending, last_newline, gz) in enumerate(
        [("\n", True, False), ("\r\n", True, True), ("\n", False, False), ("\r\n", False, False)]
    ):
        made = [_row(layout, rng, 0.02, i) for i in range(2000)]
        rows = [fields for fields, _ in made]
        name = _name(layout, str(case)) + (".gz" if gz else "")
        path = _write(tmp_path / name, layout, rows, ending, last_newline)
        kept = [f for f, odd in made if not odd or _valid_for_both(f, layout, tmp_path, monkeypatch)]
        clean = _write(tmp_path / _name(layout, f"{case}_kept"), layout, kept, ending, last_newline)
        labels.add(compare(clean, monkeypatch))
        compare(path, monkeypatch)  # usually refused (a bad value somewhere): same message
    assert any(label.startswith("compiled (") for label in labels), labels


_VALIDITY: dict[tuple[str, str], bool] = {}


def _valid_for_both(
    fields: list[str], layout: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> bool:
    """The row opens with the general reader on its own (rows that do not are left out)."""
    key = (layout.label, ",".join(fields))
    if key not in _VALIDITY:
        path = _write(tmp_path / "one.csv", layout, [fields])
        _VALIDITY[key] = _open(path, "general", monkeypatch)[1] is None
    return _VALIDITY[key]


@pytest.mark.parametrize(
    "value",
    ["1e5", "1.5E-3", "2.50000", "123456789012345678901", "9007199254740993", "0.0000000000000000000001",
     "00012.5", "-0.0", "1.", ".5", "+1.5", " 1.5", "0.30000000000000004", "4.35", "1234567890.12345678",
     "0.1000000000000000055511151231257827", "6.3715520512183324", "90391172520459.55",
     "840.886217526361412", "912229.9848245923", "0.000000000000000001"],
)  # fmt: skip
def test_one_odd_amount(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    layout = _layouts()[0]  # incremental_book_L2
    rows = [
        ["ex", "AAA", "1", "2", "true", "bid", "10.5", value],
        ["ex", "AAA", "1", "2", "true", "ask", "1", "1"],
    ]
    compare(_write(tmp_path / "odd.csv", layout, rows), monkeypatch)


@pytest.mark.parametrize(
    "bad",
    [
        "ex,AAA,1,2,true,bid,10.5",  # a field missing
        "ex,AAA,1,2,true,bid,10.5,1,9",  # one too many
        "ex,AAA,1,2,true,bid,-10.5,1",  # negative price
        "ex,AAA,1,2,true,bid,10.5,-1",  # negative amount
        "ex,AAA,1,2,true,bid,abc,1",  # not a number
        "ex,AAA,1,2,maybe,bid,10.5,1",  # not a boolean
        "ex,AAA,1,2,true,middle,10.5,1",  # unknown side
        "ex,,1,2,true,bid,10.5,1",  # empty symbol
        "ex,AAA,x,2,true,bid,10.5,1",  # bad timestamp
        "ex,AAA,1,2,true,bid,,1",  # missing price
    ],
)
def test_a_bad_row_gives_the_general_readers_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_blocks: None, bad: str
) -> None:
    layout = _layouts()[0]
    good = [f"ex,AAA,{i},{i},false,bid,{10 + i % 7}.5,1" for i in range(400)]
    lines = [*good, bad, *good]
    path = tmp_path / "bad.csv"
    path.write_text(",".join(tardis_header(layout)) + "\n" + "\n".join(lines) + "\n")
    assert compare(path, monkeypatch) == "error"
    message = _open(path, "", monkeypatch)[1]
    assert message is not None
    assert "line 402" in message, message


def test_header_must_match_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = "ex,AAA,1,2,true,bid,10.5,1\n"
    for header in (
        "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount",
        "\ufeffexchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount",
        "exchange,symbol,local_timestamp,timestamp,is_snapshot,side,price,amount",
        "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount,extra",
    ):
        path = tmp_path / "h.csv"
        path.write_text(header + "\n" + rows, encoding="utf-8")
        exact = header == ",".join(tardis_header(Layout(Kind.BOOK, (*COMMON, *SPECIFIC[Kind.BOOK]))))
        assert (compare(path, monkeypatch) == "compiled") == exact, header


def test_blank_lines_quotes_and_many_symbols(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_blocks: None
) -> None:
    layout = Layout(Kind.TRADES, (*COMMON, *SPECIFIC[Kind.TRADES]))
    lines = []
    for i in range(3000):
        symbol = f"S{i % 200}" if 1000 <= i < 1500 else "AAA"  # > 64 symbols in some blocks
        line = f"ex,{symbol},{i},{i},t{i},buy,{i % 90 + 1}.25,0.5"
        if i % 701 == 0:
            line = f'"ex",{symbol},{i},{i},"t,{i}",sell,{i % 90 + 1}.25,0.5'
        lines.append(line)
        if i % 997 == 0:
            lines.append("")
    path = tmp_path / "trades.csv"
    path.write_text(",".join(tardis_header(layout)) + "\n" + "\n".join(lines) + "\n")
    assert compare(path, monkeypatch).startswith("compiled (")


def test_cancel_stops_the_pipeline(tmp_path: Path) -> None:
    generate_files(tmp_path, seed=5, target_book_rows=50_000)
    (book,) = tmp_path.glob("*incremental_book_L2*")
    calls: list[float] = []

    def cancel() -> bool:
        calls.append(0.0)
        return len(calls) > 3

    with pytest.raises(Cancelled):
        open_sources(book, cancel=cancel)
    assert not [p for p in Path(os.environ["REPLAYTERM_CACHE_DIR"]).glob("*") if ".tmp" in p.name]


def test_decimals_are_correctly_rounded() -> None:
    """Random decimals of up to 2**53 as digits, as doubles: bit-equal to Python's float() (which
    rounds correctly), through the kernel itself."""
    from replayterm.core.data.fast_parse import FastParser

    rng = np.random.default_rng(7)
    mantissas = rng.integers(1, 2**53, size=60_000, dtype=np.int64)
    mantissas[:20_000] //= 10 ** rng.integers(0, 15, size=20_000)  # shorter numbers as well
    mantissas = np.maximum(mantissas, 1)
    texts = []
    for m, k in zip(mantissas.tolist(), rng.integers(0, 17, size=mantissas.size).tolist(), strict=True):
        digits = str(m).rjust(k + 1, "0")
        texts.append(digits if k == 0 else f"{digits[:-k]}.{digits[-k:]}")
    block = "".join(f"e,s,1,2,false,bid,{t},{t}\n" for t in texts).encode()
    layout = Layout(Kind.BOOK, (*COMMON, *SPECIFIC[Kind.BOOK]))
    parsed = FastParser(layout).parse(np.frombuffer(bytearray(block), np.uint8))
    assert parsed is not None
    want = np.array([float(t) for t in texts])
    price = parsed.columns[3].to_numpy()
    assert np.array_equal(price.view(np.int64), want.view(np.int64))


@pytest.mark.parametrize("buffers", [1, 2, 5])
@pytest.mark.parametrize("ending", [b"\n", b""])
def test_line_blocks_reassemble_the_text(buffers: int, ending: bytes) -> None:
    import io

    from replayterm.core.data.line_blocks import line_blocks

    rng = random.Random(buffers)
    lines = [b"header"] + [b"x" * rng.randint(0, 300) for _ in range(2000)]
    text = b"\n".join(lines) + ending
    got = [bytes(b) for b in line_blocks(io.BytesIO(text), 256, buffers=buffers)]  # copied as handed out
    assert all(b.endswith(b"\n") for b in got)
    assert b"".join(got) == b"\n".join(lines[1:]) + b"\n"
