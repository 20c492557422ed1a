"""Rows keep arrival (file) order; the replay's receive time is the running maximum."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from data_helpers import L2_HEADER, TRADES_HEADER, Writer

from replayterm.core.book.events import BookEvents
from replayterm.core.book.replayer import BookReplayer
from replayterm.core.data import open_sources
from replayterm.core.data.model import BID
from replayterm.core.data.write import write_source

# The third update (line 6) was received "before" the two updates above it: the recorder's clock
# stepped back. The exchange sent it last, so the level ends at 3.5.
STEPPED_BACK = [
    "ex,AAA,1000,10,true,bid,100,1",
    "ex,AAA,1000,10,true,ask,101,1",
    "ex,AAA,1100,30,false,bid,100,2.0",
    "ex,AAA,1100,30,false,ask,101,2.0",
    "ex,AAA,1200,25,false,bid,100,3.5",
]


def _final_size(path: Path, use_cache: bool) -> float:
    (source,) = open_sources(path, use_cache=use_cache)
    replayer = BookReplayer(BookEvents.from_sources([source]))
    replayer.apply_through(replayer.n_groups)
    return replayer.book.size_at(BID, 100.0)


@pytest.mark.parametrize("use_cache", ["off", "built", "hit"])
@pytest.mark.parametrize("gz", [False, True])
def test_update_with_an_earlier_receive_time_applies_in_file_order(
    write: Writer, use_cache: str, gz: bool
) -> None:
    path = write("l2.csv.gz" if gz else "l2.csv", L2_HEADER, *STEPPED_BACK, gz=gz)
    if use_cache == "hit":
        open_sources(path)
    assert _final_size(path, use_cache != "off") == 3.5


def test_local_ts_is_non_decreasing_and_raw_times_survive_the_cache(write: Writer) -> None:
    path = write("l2.csv", L2_HEADER, *STEPPED_BACK)
    (built,) = open_sources(path)
    (hit,) = open_sources(path)
    assert (built.cache_state, hit.cache_state) == ("built", "hit")
    for source in (built, hit):
        assert source.column("local_ts").tolist() == [10, 10, 30, 30, 30]
        assert source.column("amount").tolist() == [1, 1, 2.0, 2.0, 3.5]
        assert source.receive_ts().tolist() == [10, 10, 30, 30, 25]
        assert source.unsorted_rows == 1
        assert source.warnings == built.warnings
    assert "line 6" in built.warnings[0]
    assert "keep file order" in built.warnings[0]


def test_time_filter_keeps_raw_times_of_its_rows(write: Writer) -> None:
    path = write("l2.csv", L2_HEADER, *STEPPED_BACK)
    (src,) = open_sources(path, from_ts=20)
    assert src.rows == 3
    assert src.receive_ts().tolist() == [30, 30, 25]
    (src,) = open_sources(path, to_ts=20)
    assert src.receive_ts().tolist() == [10, 10]


def test_each_symbol_has_its_own_running_maximum(write: Writer) -> None:
    path = write(
        "t.csv",
        TRADES_HEADER,
        "ex,A,1,50,1,buy,1,1",
        "ex,B,1,10,2,buy,2,1",
        "ex,A,1,40,3,buy,3,1",  # A steps back; B is not affected
        "ex,B,1,20,4,buy,4,1",
    )
    a, b = open_sources(path)
    assert a.column("local_ts").tolist() == [50, 50]
    assert a.receive_ts().tolist() == [50, 40]
    assert "line 4" in a.warnings[0]
    assert b.column("local_ts").tolist() == [10, 20]
    assert (b.unsorted_rows, b.warnings) == (0, [])


@pytest.mark.parametrize("fmt", ["parquet", "arrow"])
def test_convert_writes_the_raw_receive_times(write: Writer, tmp_path: Path, fmt: str) -> None:
    (src,) = open_sources(write("l2.csv", L2_HEADER, *STEPPED_BACK))
    target = tmp_path / f"out.{fmt}"
    write_source(src, target, fmt)
    (back,) = open_sources(target, use_cache=False)
    assert back.receive_ts().tolist() == src.receive_ts().tolist()
    assert back.column("local_ts").tolist() == src.column("local_ts").tolist()
    assert np.array_equal(back.column("amount"), src.column("amount"))
