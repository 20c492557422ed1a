"""``replayterm info`` and ``replayterm convert`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from data_helpers import L2_HEADER, L2_ROWS, TRADES_HEADER, Writer

from replayterm.cli import main
from replayterm.core.data import Kind, open_sources


def _snapshot_file(write: Writer) -> Path:
    levels = [f"{s}[{i}].{f}" for i in range(2) for s in ("asks", "bids") for f in ("price", "amount")]
    header = "exchange,symbol,timestamp,local_timestamp," + ",".join(levels)
    return write(
        "ex_book_snapshot_2_AAA.csv",
        header,
        "ex,AAA,10,20,101,1,99,2,102,3,98,4",
        "ex,AAA,11,21,101,5,99,6,,,98,7",
    )


def test_info_text(write: Writer, capsys: pytest.CaptureFixture[str]) -> None:
    path = write("a.csv", L2_HEADER, "ex,AAA,900,1900,false,bid,99,1", *L2_ROWS)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "incremental_book_L2" in out
    assert "ex AAA" in out
    assert "rows              5" in out
    assert "1970-01-01T00:00:00.001900Z .. 1970-01-01T00:00:00.002200Z" in out
    assert "snapshot runs     1" in out
    assert "before snapshot   1 rows" in out
    assert "cache             built" in out


def test_info_json_and_bad_files(write: Writer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write("a.csv", L2_HEADER, *L2_ROWS)
    bad = write("b.csv", L2_HEADER, "ex,AAA,1,2,true,bid,oops,1")
    snap = _snapshot_file(write)
    assert main(["info", "--json", str(bad), str(good), str(snap), str(tmp_path / "missing.csv")]) == 1
    captured = capsys.readouterr()
    reports = json.loads(captured.out)
    assert [("error" in r) for r in reports] == [True, False, False, True]
    assert f"{bad}, line 2, column 'price'" in captured.err
    assert "missing.csv" in captured.err
    (book,) = reports[1]["sources"]
    assert book["type"] == "incremental_book_L2"
    assert book["rows"] == 4
    assert book["local_time"]["first_us"] == 2000
    assert book["exchange_time"]["last_us"] == 1200
    assert book["snapshot_runs"] == 1
    (snapshot,) = reports[2]["sources"]
    assert (snapshot["type"], snapshot["snapshot_runs"], snapshot["rows"]) == ("book_snapshot_2", 2, 2)
    assert snapshot["level_rows"] == 7  # two file rows hold 7 levels (one cell was empty)


def test_info_reports_each_symbol_and_warnings(write: Writer, capsys: pytest.CaptureFixture[str]) -> None:
    path = write("g.csv", TRADES_HEADER, "ex,A,1,10,1,buy,1,1", "ex,B,1,11,2,buy,1,1", "ex,A,1,5,3,buy,1,1")
    assert main(["info", "--no-cache", str(path)]) == 0
    out = capsys.readouterr().out
    assert "symbols           A, B" in out
    assert "late rows         1  (receive time stepped back; file order kept)" in out
    assert "warning: local_timestamp goes backwards at line 4" in out
    assert "cache             off" in out


def test_info_time_filter(write: Writer, capsys: pytest.CaptureFixture[str]) -> None:
    path = write("a.csv", L2_HEADER, *L2_ROWS)
    assert main(["info", "--json", "--from", "2100", "--to", "2200", str(path)]) == 0
    (report,) = json.loads(capsys.readouterr().out)
    assert report["sources"][0]["rows"] == 1
    assert main(["info", "--from", "not-a-time", str(path)]) == 2


@pytest.mark.parametrize("fmt", ["parquet", "arrow"])
def test_convert_round_trip(
    write: Writer, tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    book = write("a.csv.gz", L2_HEADER, *L2_ROWS, gz=True)
    snap = _snapshot_file(write)
    liq = write(
        "ex_liquidations_2024-01-01_X.csv", TRADES_HEADER, "ex,A,1,10,1,buy,1,1", "ex,B,1,11,2,sell,2,1"
    )
    out = tmp_path / "out"
    assert main(["convert", str(book), str(snap), str(liq), "--out", str(out), "--format", fmt]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(
        [
            f"a.{fmt}",
            f"ex_book_snapshot_2_AAA.{fmt}",
            f"ex_liquidations_2024-01-01_X_ex_A.{fmt}",
            f"ex_liquidations_2024-01-01_X_ex_B.{fmt}",
        ]
    )
    originals = open_sources([book, snap, liq], use_cache=False)
    again = open_sources(sorted(out.iterdir()), use_cache=False)
    by_key = {(s.kind, s.symbol, s.snapshot_depth): s for s in again}
    assert len(by_key) == 4
    for src in originals:
        back = by_key[(src.kind, src.symbol, src.snapshot_depth)]
        assert back.table.equals(src.table)
    assert by_key[(Kind.BOOK_SNAPSHOT, "AAA", 2)].label == "ex AAA book_snapshot_2"


def test_convert_reports_bad_files(write: Writer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write("a.csv", L2_HEADER, *L2_ROWS)
    bad = write("b.csv", "what,is,this", "1,2,3")
    assert main(["convert", str(bad), str(good), "--out", str(tmp_path / "o")]) == 1
    assert "unknown header" in capsys.readouterr().err
    assert (tmp_path / "o" / "a.parquet").exists()


def _day(write: Writer, day: int, start_s: int, end_s: int, symbol: str = "AAA") -> Path:
    base = 1_704_153_600_000_000 + (day - 2) * 86_400_000_000  # 2024-01-02T00:00:00Z + days
    rows = [
        f"ex,{symbol},{base + s * 10**6},{base + s * 10**6},{s},buy,100,1" for s in range(start_s, end_s, 60)
    ]
    return write(f"ex_trades_2024-01-{day:02d}_{symbol}.csv", TRADES_HEADER, *rows)


def test_info_reports_daily_files_as_a_set(write: Writer, capsys: pytest.CaptureFixture[str]) -> None:
    full_day = 86_400
    days = [
        _day(write, 3, 0, full_day),
        _day(write, 2, 0, full_day),
        _day(write, 4, 0, 3600),  # the recorder stopped an hour into the 4th...
        _day(write, 6, 0, full_day),  # ...and the 5th is missing
    ]
    other = _day(write, 2, 0, 600, symbol="BBB")
    assert main(["info", *map(str, days), str(other)]) == 0
    out = capsys.readouterr().out
    assert "set: ex AAA trades, 4 files" in out
    assert "set: ex BBB" not in out  # one file is not a set
    assert "days              4 (2024-01-02 .. 2024-01-06)" in out
    assert f"rows              {3 * 1440 + 60:,}" in out
    assert "local time        2024-01-02T00:00:00.000000Z .. 2024-01-06T23:59:00.000000Z" in out
    assert "gap               60.000 s from 2024-01-02T23:59:00.000000Z to 2024-01-03T00:00:00.000000Z" in out
    assert (
        "gap               169260.000 s from 2024-01-04T00:59:00.000000Z to 2024-01-06T00:00:00.000000Z"
        in out
    )
    assert main(["info", "--json", *map(str, days)]) == 0
    items = json.loads(capsys.readouterr().out)
    (info_set,) = [i for i in items if "set" in i]
    assert [Path(f).name for f in info_set["files"]] == [days[i].name for i in (1, 0, 2, 3)]
    assert info_set["days"] == ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-06"]
    assert len(info_set["gaps"]) == 3
