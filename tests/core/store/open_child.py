"""A separate process that opens one data file through the cache (run by test_entry_locks).

``python open_child.py FILE MODE``: MODE ``open`` prints one JSON line with what it found;
``hang-ingest``/``hang-index`` print ``MIDWAY`` once the Arrow conversion / the book index build is
about half done and then wait to be killed (the parent sends SIGKILL).
"""

from __future__ import annotations

import json
import sys
import threading

from replayterm.core.book import indexer
from replayterm.core.data import csv_source, grouping, open_sources
from replayterm.core.data.cache import cache_dir
from replayterm.core.replay.instruments import build_instruments


def main() -> None:
    path, mode = sys.argv[1], sys.argv[2]
    csv_source.BLOCK_SIZE = 1 << 16  # many batches: the conversion can be caught midway
    grouping.SpillStore.GROUP_ROWS = 2000
    grouping.SpillStore.TOTAL_ROWS = 4000
    indexer.STEP_ROWS = 4000
    messages: list[str] = []
    stop = threading.Event()

    def half_written() -> bool:
        if phase_of_mode == "ingest":  # the conversion has written part of its files
            return any(cache_dir().glob("*.tmp"))
        return True

    phase_of_mode = mode.removeprefix("hang-")

    def progress(fraction: float, message: str, phase: str) -> None:
        messages.append(message)
        if mode == f"hang-{phase}" and fraction >= 0.4 and half_written():
            print("MIDWAY", flush=True)
            stop.wait()  # until SIGKILL

    sources = open_sources([path], progress=lambda f, m: progress(f, m, "ingest"))
    instruments = build_instruments(sources, progress=lambda f, m: progress(f, m, "index"))
    (inst,) = instruments
    book = inst.book
    assert book is not None
    book.run_to_end()
    result = {
        "cache_state": sources[0].cache_state,
        "indexed_here": any(m.startswith("scanning") for m in messages),
        "waited": any(m.startswith("waiting") for m in messages),
        "persistent": inst.index_folder is not None,
        "groups": book.n_groups,
        "best": [book.book.best_bid(), book.book.best_ask()],
        "bids": book.book.levels(1, 50).tolist(),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
