"""PostgreSQL as a source and an export target, against a real server (see conftest)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from replayterm import cli
from replayterm.core.book import BookReplayer
from replayterm.core.book.events import BookEvents
from replayterm.core.data import DataError, Kind, open_sources
from replayterm.core.data.postgres.connect import connection
from replayterm.core.data.postgres.writer import write_tables

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data"
L2 = SAMPLE / "synthetic_incremental_book_L2_2024-01-02_SYNTHUSD.csv.gz"
TRADES = SAMPLE / "synthetic_trades_2024-01-02_SYNTHUSD.csv.gz"


def _execute(url: str, *statements: str) -> None:
    with connection(url, "test") as conn, conn.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


def _assert_same_book_at_every_message(file_sources: list, db_sources: list) -> BookReplayer:
    a = BookReplayer(BookEvents.from_sources(file_sources))
    b = BookReplayer(BookEvents.from_sources(db_sources))
    assert a.events.n_groups == b.events.n_groups
    for _ in range(a.events.n_groups):
        a.step()
        b.step()
        assert a.book.same_state(b.book), f"books differ after message {a.book.position}"
    return b


@pytest.mark.realdata
def test_the_shared_capture_round_trips_through_postgresql_with_the_same_book_at_every_message(
    shared_data: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = shared_data / "binance-futures"
    files = [
        str(folder / f"binance-futures_{kind}_{day}_BTCUSDT.csv.gz")
        for kind in ("incremental_book_L2", "trades")
        for day in ("2024-07-18", "2024-07-19")
    ]
    assert cli.main(["export", *files, "--to", postgres_url, "--table", "capture"]) == 0
    out = capsys.readouterr().out
    assert "wrote 406645 incremental_book_L2 rows" in out  # 77,437 + 329,208
    assert "wrote 10701 trades rows" in out

    book_files = [f for f in files if "incremental_book_L2" in f]
    from_files = open_sources(book_files)
    url = f"{postgres_url}?table=capture_incremental_book_L2&symbol=BTCUSDT"
    from_db = open_sources([url])
    assert [s.cache_state for s in from_db] == ["built"]
    assert sum(s.rows for s in from_files) == from_db[0].rows
    joined = pa.concat_tables([s.table for s in from_files]).combine_chunks()
    assert joined.equals(from_db[0].table.combine_chunks())
    replayer = _assert_same_book_at_every_message(from_files, from_db)
    assert replayer.events.n_groups > 9000  # the capture's L2 messages, one book compared after each
    # The final book the capture's README states.
    assert replayer.book.level_count(1) == 5276
    assert replayer.book.level_count(-1) == 5156

    trades = open_sources([f"{postgres_url}?table=capture_trades"])
    assert [s.kind for s in trades] == [Kind.TRADES]
    file_trades = pa.concat_tables([s.table for s in open_sources([f for f in files if "trades" in f])])
    assert trades[0].table.combine_chunks().equals(file_trades.combine_chunks())


def test_a_reopen_reads_the_cache_and_never_the_database(postgres_url: str, table_name: str) -> None:
    write_tables(open_sources([L2]), postgres_url, table_name)
    url = f"{postgres_url}?table={table_name}&symbol=SYNTHUSD"
    first = open_sources([url])
    assert first[0].cache_state == "built"
    _execute(postgres_url, f"DROP TABLE {table_name}")
    # The table is gone and the password is wrong: only the cache can answer.
    wrong = url.replace(postgres_url.split(":")[2].split("@")[0], "not-the-password")
    assert wrong != url
    again = open_sources([wrong])
    assert again[0].cache_state == "hit"
    assert again[0].table.equals(first[0].table)
    with pytest.raises(DataError, match="no table or view named"):
        open_sources([url], use_cache=False)


def test_the_cache_key_includes_the_query(postgres_url: str, table_name: str) -> None:
    write_tables(open_sources([TRADES]), postgres_url, table_name)
    whole = open_sources([f"{postgres_url}?table={table_name}"])[0]
    ts = whole.column("local_ts")
    lo, hi = int(ts[len(ts) // 3]), int(ts[2 * len(ts) // 3])
    ranged = open_sources([f"{postgres_url}?table={table_name}&from={lo}&to={hi}"])[0]
    assert ranged.cache_state == "built"  # another query, another entry
    expected = open_sources([TRADES], from_ts=lo, to_ts=hi)[0]
    assert ranged.rows == expected.rows > 0
    assert ranged.table.equals(expected.table)


def test_a_table_with_its_own_column_names_and_types_reads_through_a_mapping(
    postgres_url: str, table_name: str
) -> None:
    write_tables(open_sources([L2]), postgres_url, f"{table_name}_src")
    _execute(
        postgres_url,
        f"CREATE TABLE {table_name} AS SELECT exchange AS venue, symbol AS instrument, "
        "timestamptz 'epoch' + timestamp * interval '1 microsecond' AS exch_time, "
        "timestamptz 'epoch' + local_timestamp * interval '1 microsecond' AS recv_time, "
        "is_snapshot, side, price::numeric(18,8) AS px, amount::numeric(24,8) AS qty, seq AS row_no "
        f"FROM {table_name}_src",
    )
    mapping = (
        "col.exchange=venue&col.symbol=instrument&col.timestamp=exch_time&col.local_timestamp=recv_time"
        "&col.price=px&col.amount=qty&order=row_no"
    )
    from_db = open_sources([f"{postgres_url}?table={table_name}&symbol=SYNTHUSD&{mapping}"])
    from_file = open_sources([L2])
    assert from_db[0].kind is Kind.BOOK
    assert from_db[0].table.equals(from_file[0].table)


def test_bad_database_sources_say_what_is_wrong(postgres_url: str, table_name: str) -> None:
    with pytest.raises(DataError, match="names no table"):
        open_sources([postgres_url])
    with pytest.raises(DataError, match="no table or view named 'missing'"):
        open_sources([f"{postgres_url}?table=missing"])
    write_tables(open_sources([TRADES]), postgres_url, table_name)
    with pytest.raises(DataError, match="not a column of"):
        open_sources([f"{postgres_url}?table={table_name}&col.price=px"])
    password = postgres_url.split(":")[2].split("@")[0]
    with pytest.raises(DataError, match="cannot connect") as err:
        open_sources([postgres_url.replace(password, "wrong") + f"?table={table_name}"])
    assert "wrong" not in str(err.value)
    assert password not in str(err.value)
    with pytest.raises(DataError, match="exists already"):
        write_tables(open_sources([TRADES]), postgres_url, table_name)


def test_the_password_may_come_from_pgpassword(
    postgres_url: str, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = postgres_url.split(":")[2].split("@")[0]
    monkeypatch.setenv("PGPASSWORD", password)
    bare = postgres_url.replace(f":{password}@", "@")
    write_tables(open_sources([TRADES]), bare, table_name)
    assert open_sources([f"{bare}?table={table_name}"])[0].rows == open_sources([TRADES])[0].rows


def test_headless_commands_take_a_database_source(
    postgres_url: str, table_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["export", str(L2), str(TRADES), "--to", postgres_url, "--table", table_name]) == 0
    book = f"{postgres_url}?table={table_name}_incremental_book_L2&symbol=SYNTHUSD"
    trades = f"{postgres_url}?table={table_name}_trades&symbol=SYNTHUSD"
    capsys.readouterr()
    assert cli.main(["info", book, trades]) == 0
    info = capsys.readouterr().out
    assert "SYNTHUSD" in info
    assert "incremental_book_L2" in info
    assert cli.main(["book", book, "--at", "2024-01-02T00:05:00Z", "--depth", "3"]) == 0
    from_db = capsys.readouterr().out
    assert cli.main(["book", str(L2), "--at", "2024-01-02T00:05:00Z", "--depth", "3"]) == 0
    assert capsys.readouterr().out == from_db


def test_convert_names_the_output_after_the_table(
    postgres_url: str, table_name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tables(open_sources([TRADES]), postgres_url, table_name)
    url = f"{postgres_url}?table={table_name}&symbol=SYNTHUSD"
    assert cli.main(["convert", url, "--out", str(tmp_path), "--format", "parquet"]) == 0
    written = [p.name for p in tmp_path.iterdir()]
    assert written == [f"replayterm_table_{table_name}_symbol_SYNTHUSD.parquet"]
    assert open_sources([tmp_path / written[0]])[0].table.equals(open_sources([TRADES])[0].table)
