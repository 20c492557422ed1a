"""First open streams into the cache: same rows as a whole-file read, and a cancelled or failed
open (bad row, truncated gzip, full disk) leaves nothing behind in the cache folder."""

from __future__ import annotations

import errno
import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from data_helpers import L2_HEADER, TRADES_HEADER, Writer

from replayterm.core.data import Cancelled, DataError, csv_source, grouping, open_sources
from replayterm.core.data.cache import LOCKS, IpcFileWriter, cache_dir

REPO = Path(__file__).resolve().parents[3]


def _reference(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """A whole-file read with pyarrow, grouped by symbol in first-appearance order, in file order."""
    table = pacsv.read_csv(path)
    symbols = table.column("symbol").to_pylist()
    out: dict[str, dict[str, np.ndarray]] = {}
    for symbol in dict.fromkeys(symbols):
        rows = np.flatnonzero(np.array(symbols, dtype=object) == symbol)
        raw = table.column("local_timestamp").to_numpy()[rows]
        out[symbol] = {
            "local_ts": np.maximum.accumulate(raw),
            "raw": raw,
            "exch_ts": table.column("timestamp").to_numpy()[rows],
            "price": table.column("price").to_numpy()[rows],
            "amount": table.column("amount").to_numpy()[rows],
        }
    return out


def _check_same(path: Path, **kwargs: object) -> None:
    expected = _reference(path)
    sources = open_sources(path, **kwargs)  # type: ignore[arg-type]
    assert [s.symbol for s in sources] == list(expected)
    for source in sources:
        want = expected[source.symbol]
        assert source.table.column("symbol").to_pylist() == [source.symbol] * source.rows
        for name in ("local_ts", "exch_ts", "price", "amount"):
            assert np.array_equal(source.column(name), want[name]), name
        assert np.array_equal(source.receive_ts(), want["raw"])


def _leftovers() -> list[Path]:
    root = cache_dir()
    found = sorted(root.rglob("*")) if root.exists() else []
    return [p for p in found if LOCKS not in p.parts]  # the (empty) lock files stay


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many small batches and tiny spill buffers, so every path of the writer runs."""
    monkeypatch.setattr(csv_source, "BLOCK_SIZE", 4096)
    monkeypatch.setattr(grouping.SpillStore, "GROUP_ROWS", 100)
    monkeypatch.setattr(grouping.SpillStore, "TOTAL_ROWS", 250)


def _interleaved(write: Writer, rows: int = 6000, gz: bool = True) -> Path:
    rng = np.random.default_rng(3)
    symbols = rng.choice(["BBB", "AAA", "CCC", "DDD"], size=rows, p=[0.5, 0.3, 0.15, 0.05])
    ts = np.arange(rows) * 10 + rng.integers(-25, 5, rows)  # steps back now and then
    lines = [
        f"ex,{s},{i},{t},{i},{'buy' if i % 3 else 'sell'},{100 + i % 17},{1 + i % 5}"
        for i, (s, t) in enumerate(zip(symbols, ts, strict=True))
    ]
    return write("multi_trades.csv.gz" if gz else "multi_trades.csv", TRADES_HEADER, *lines, gz=gz)


@pytest.mark.usefixtures("small_batches")
@pytest.mark.parametrize("use_cache", [False, True])
def test_several_symbols_stream_into_contiguous_groups(write: Writer, use_cache: bool) -> None:
    path = _interleaved(write)
    _check_same(path, use_cache=use_cache)
    if use_cache:
        _check_same(path)  # the hit reads the same
        names = sorted(p.name.split(".", 1)[1] for p in _leftovers())
        assert names == ["arrow", "json", "recv.arrow"]  # no temporary or spill file left


def test_bundled_sample_streams_like_a_whole_file_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_source, "BLOCK_SIZE", 1 << 20)
    for path in sorted((REPO / "data").glob("*_trades_*.csv.gz")):
        _check_same(path)
    (book,) = sorted((REPO / "data").glob("*incremental_book_L2*.csv.gz"))
    (small,) = open_sources(book)
    (whole,) = open_sources(book, use_cache=False)
    assert small.table.equals(whole.table)
    table = pacsv.read_csv(book)
    assert np.array_equal(small.column("price"), table.column("price").to_numpy())
    assert small.column("side").tolist() == [
        1 if s == "bid" else -1 for s in table.column("side").to_pylist()
    ]


@pytest.mark.realdata
def test_real_captures_stream_like_a_whole_file_read(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_source, "BLOCK_SIZE", 1 << 20)
    files = sorted((shared_data / "binance-futures").glob("*_trades_*.csv.gz"))
    files += sorted((shared_data / "tardis-samples").glob("*trades*.csv"))
    assert files
    for path in files:
        _check_same(path)
    for path in sorted((shared_data / "binance-futures").glob("*incremental_book_L2*.csv.gz")):
        (streamed,) = open_sources(path)
        table = pacsv.read_csv(path)
        for name, column in (("local_ts", "local_timestamp"), ("price", "price"), ("amount", "amount")):
            assert np.array_equal(streamed.column(name), table.column(column).to_numpy())


def test_cancel_in_the_middle_leaves_no_entry(write: Writer, small_batches: None) -> None:
    del small_batches
    for path in (_interleaved(write), write("one.csv.gz", TRADES_HEADER, *_trades(3000), gz=True)):
        calls = 0

        def cancel() -> bool:
            nonlocal calls
            calls += 1
            return calls > 4

        with pytest.raises(Cancelled):
            open_sources(path, cancel=cancel)
        assert _leftovers() == []


def _trades(n: int, bad_at: int | None = None) -> list[str]:
    rows = [f"ex,AAA,{i},{1000 + i},{i},buy,{100 + i % 7},1" for i in range(n)]
    if bad_at is not None:
        rows[bad_at] = f"ex,AAA,{bad_at},{1000 + bad_at},{bad_at},buy,0,1"
    return rows


@pytest.mark.usefixtures("small_batches")
def test_bad_row_in_the_middle_leaves_no_entry(write: Writer) -> None:
    path = write("bad.csv.gz", TRADES_HEADER, *_trades(3000, bad_at=2500), gz=True)
    with pytest.raises(DataError) as info:
        open_sources(path)
    assert info.value.line == 2502
    assert _leftovers() == []


@pytest.mark.usefixtures("small_batches")
def test_truncated_gzip_leaves_no_entry(write: Writer, tmp_path: Path) -> None:
    data = gzip.compress(("\n".join([TRADES_HEADER, *_trades(5000)]) + "\n").encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) * 3 // 4])
    with pytest.raises(DataError) as info:
        open_sources(path)
    assert "truncated" in str(info.value)
    assert _leftovers() == []


@pytest.mark.usefixtures("small_batches")
@pytest.mark.parametrize("where", ["cache file", "spill file"])
def test_full_disk_gives_a_clear_error_and_no_entry(
    write: Writer, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    path = (
        _interleaved(write) if where == "spill file" else write("x.csv.gz", L2_HEADER, *_book(4000), gz=True)
    )
    written = 0
    original: Callable[[Any, pa.RecordBatch], None]

    def full(self: Any, batch: pa.RecordBatch) -> None:
        nonlocal written
        written += 1
        if written > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        original(self, batch)

    with monkeypatch.context() as patch:  # undoes only these patches, not the private cache folder
        if where == "cache file":
            original = IpcFileWriter.write
            patch.setattr(IpcFileWriter, "write", full)
        else:
            original = pa.ipc.RecordBatchStreamWriter.write_batch

            class Full:
                def __init__(self, writer: pa.ipc.RecordBatchStreamWriter) -> None:
                    self.writer = writer

                def write_batch(self, batch: pa.RecordBatch) -> None:
                    full(self.writer, batch)

                def close(self) -> None:
                    self.writer.close()

            real_new_stream = grouping.ipc.new_stream
            patch.setattr(
                grouping.ipc, "new_stream", lambda sink, schema: Full(real_new_stream(sink, schema))
            )
        with pytest.raises(DataError) as info:
            open_sources(path)
        text = str(info.value)
        assert str(path) in text
        assert f"not enough disk space in the cache folder {cache_dir()}" in text
        assert "needs about" in text
        needed = text.split("needs about ", 1)[1].split(" and ", 1)[0]
        assert needed.endswith(("KB", "MB")), needed  # an estimate of the table, not 0 bytes
        assert "REPLAYTERM_CACHE_DIR" in text
        assert "replayterm cache clear" in text
        assert _leftovers() == []
    (ok,) = open_sources(path) if where == "cache file" else open_sources(path)[:1]
    assert ok.cache_state == "built"


def _book(n: int) -> list[str]:
    rows = ["ex,AAA,1,1,true,bid,99,1", "ex,AAA,1,1,true,ask,101,1"]
    for i in range(2, n):
        side, price = ("bid", 100 - 1 - i % 5) if i % 2 else ("ask", 100 + 1 + i % 5)
        rows.append(f"ex,AAA,{i},{i},false,{side},{price},{i % 4}")
    return rows


@pytest.mark.parametrize("isal", [True, False])
def test_both_gzip_decoders_read_the_same_and_refuse_truncation(
    write: Writer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, isal: bool
) -> None:
    if isal and not csv_source.USE_ISAL:
        pytest.skip("no ISA-L wheel on this platform")
    monkeypatch.setattr(csv_source, "USE_ISAL", isal)
    path = write("x.csv.gz", L2_HEADER, *_book(3000), gz=True)
    (src,) = open_sources(path, use_cache=False)
    assert src.rows == 3000
    assert src.column("amount").tolist() == [1, 1] + [i % 4 for i in range(2, 3000)]
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 5):
        path.write_bytes(data[:cut])
        with pytest.raises(DataError) as info:
            open_sources(path, use_cache=False)
        assert "truncated or corrupt" in str(info.value)


@pytest.mark.parametrize("use_cache", [False, True])
def test_snapshot_lines_without_any_level_give_an_empty_source(write: Writer, use_cache: bool) -> None:
    header = (
        "exchange,symbol,timestamp,local_timestamp,asks[0].price,asks[0].amount,bids[0].price,bids[0].amount"
    )
    path = write("e_book_snapshot_1.csv", header, "ex,A,1,2,,,,", "ex,A,1,3,,,,")
    (src,) = open_sources(path, use_cache=use_cache)
    assert (src.symbol, src.rows) == ("A", 0)
    if use_cache:
        (again,) = open_sources(path)
        assert (again.cache_state, again.rows) == ("hit", 0)


def test_cancel_while_finding_the_line_of_a_step_back_leaves_no_entry(write: Writer) -> None:
    rows = _trades(3000)
    rows[2900] = "ex,AAA,2900,5,2900,buy,100,1"  # receive time steps back near the end
    path = write("late.csv.gz", TRADES_HEADER, *rows, gz=True)
    phases: list[str] = []

    def progress(fraction: float, message: str) -> None:
        phases.append(message)

    with pytest.raises(Cancelled):
        open_sources(path, progress=progress, cancel=lambda: bool(phases) and "finding" in phases[-1])
    assert _leftovers() == []
    (src,) = open_sources(path)
    assert "line 2902" in src.warnings[0]
