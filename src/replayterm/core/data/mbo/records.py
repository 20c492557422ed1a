"""``MboRecords``: market-by-order events of one file as numpy columns (never an object per record).

One row per record, in file order. Actions follow Databento's MBO vocabulary, which the LOBSTER
reader maps onto: ``A`` add, ``C`` cancel (``size`` is the quantity removed), ``M`` modify
(``size`` and ``price`` are the order's new values), ``R`` clear the book, ``T`` trade (does not
change the book; ``side`` is the aggressor), ``F`` fill of a resting order and ``N`` none (never
change the book), and our ``S`` (seed: an add at the front of the queue). The book is
observable only after records carrying ``F_LAST``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ADD = ord("A")
CANCEL = ord("C")
MODIFY = ord("M")
CLEAR = ord("R")
TRADE = ord("T")
FILL = ord("F")
NONE = ord("N")

# Databento's flag bits (the same values as databento_dbn.F_LAST etc.).
F_LAST = 1 << 7
F_TOB = 1 << 6
F_SNAPSHOT = 1 << 5
F_MBP = 1 << 4
F_BAD_TS_RECV = 1 << 3
F_MAYBE_BAD_BOOK = 1 << 2
F_PUBLISHER_SPECIFIC = 1 << 1
# Ours, not Databento's: an Add the LOBSTER reader made from the book file (orders resting before
# the sample, or a level deeper than the message file shows); it joins the FRONT of its level.
SEED = ord("S")


@dataclass(frozen=True, eq=False)
class MboRecords:
    """Columns (all the same length): ``ts_recv``/``ts_event`` int64 ns since the epoch,
    ``action`` uint8 (ASCII letter), ``side`` int8 (+1 bid / buy, -1 ask / sell, 0 none),
    ``price`` int64 in units of ``1 / price_scale``, ``size`` int64, ``order_id`` int64 (the
    exchange's id; uint64 ids are viewed as int64), ``flags`` uint8, ``instrument`` int32 (index
    into ``symbols``)."""

    ts_recv: np.ndarray
    ts_event: np.ndarray
    action: np.ndarray
    side: np.ndarray
    price: np.ndarray
    size: np.ndarray
    order_id: np.ndarray
    flags: np.ndarray
    instrument: np.ndarray
    price_scale: float
    exchange: str
    symbols: list[str]
    file_format: str
    notes: list[str] = field(default_factory=list)
    # What a reader had to add or adjust, by reason (LOBSTER seeding), for tests and ``info``.
    counters: dict[str, int] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"MboRecords({len(self)} records, {self.exchange} {self.symbols}, {self.file_format})"

    def __len__(self) -> int:
        return int(self.ts_recv.shape[0])

    def select(self, mask: np.ndarray) -> MboRecords:
        """The records where ``mask`` holds (one instrument of a multi-instrument file)."""
        return MboRecords(
            **{name: getattr(self, name)[mask] for name in _COLUMNS},
            price_scale=self.price_scale,
            exchange=self.exchange,
            symbols=self.symbols,
            file_format=self.file_format,
            notes=self.notes,
            counters=self.counters,
        )

    def columns(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in _COLUMNS}


_COLUMNS = ("ts_recv", "ts_event", "action", "side", "price", "size", "order_id", "flags", "instrument")


def side_code(letters: np.ndarray) -> np.ndarray:
    """Databento side letters (uint8 'B' / 'A' / 'N') -> +1 / -1 / 0."""
    out = np.zeros(letters.shape[0], dtype=np.int8)
    out[letters == ord("B")] = 1
    out[letters == ord("A")] = -1
    return out
