"""One instrument's MBO records prepared for the L3 kernel, and the L2 rows and trades derived.

``L3Events.from_records`` maps exchange order ids and prices to dense numbers (one
``np.unique`` each) so the kernel works on plain arrays. ``derive_l2`` runs the kernel once
over all records and returns, per end of event, the levels it touched with their new totals:
the L2 ``incremental_book_L2`` rows of the instrument (snapshots flagged), each tagged with the
record after which it holds (``record``), which is how an L2 position maps back to an L3 one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from replayterm.core.book.l3 import kernel as k
from replayterm.core.data.mbo.records import ADD, CANCEL, MODIFY, SEED, TRADE, MboRecords


@dataclass(frozen=True, eq=False, repr=False)
class L3Events:
    records: MboRecords
    action: np.ndarray  # uint8
    level: np.ndarray  # int32: 2 * price rank + (1 for asks); -1 without price/side
    size: np.ndarray  # int64
    order: np.ndarray  # int32 dense order number
    flags: np.ndarray  # uint8
    prices: np.ndarray  # int64 fixed-point prices of the ranks, ascending
    n_orders: int

    @property
    def n_records(self) -> int:
        return int(self.action.shape[0])

    @property
    def n_levels(self) -> int:
        return int(self.prices.shape[0]) * 2

    def price_of_level(self, level: int) -> float:
        return float(self.prices[level >> 1]) / self.records.price_scale

    @staticmethod
    def from_records(records: MboRecords) -> L3Events:
        action = records.action
        book_action = (action == ADD) | (action == CANCEL) | (action == MODIFY) | (action == SEED)
        priced = book_action & (records.side != 0)
        prices = np.unique(records.price[priced])
        rank = np.searchsorted(prices, records.price).astype(np.int32)
        level = np.where(priced, rank * 2 + (records.side < 0), -1).astype(np.int32)
        ids, order = np.unique(records.order_id, return_inverse=True)
        return L3Events(
            records=records,
            action=np.ascontiguousarray(action, dtype=np.uint8),
            level=level,
            size=np.ascontiguousarray(records.size, dtype=np.int64),
            order=order.astype(np.int32),
            flags=np.ascontiguousarray(records.flags, dtype=np.uint8),
            prices=prices.astype(np.int64),
            n_orders=int(ids.shape[0]),
        )


@dataclass(frozen=True, eq=False)
class DerivedL2:
    """L2 rows: ``record`` (index of the end-of-event record), ``level``, ``total`` (the level's
    size after the event), ``snapshot``; plus the kernel's counters."""

    record: np.ndarray
    level: np.ndarray
    total: np.ndarray
    snapshot: np.ndarray
    counters: dict[str, int]


_RUN: Any = k.run  # a numba dispatcher: mypy cannot see its signature


def state_args(state: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
    return tuple(state[name] for name in k.STATE_ORDER)


def derive_l2(events: L3Events) -> DerivedL2:
    state = k.new_state(events.n_orders, events.n_levels)
    capacity = max(events.n_records * 2, 1024) + events.n_levels
    out = _outputs(capacity)
    while True:
        done = _RUN(
            events.action, events.level, events.size, events.order, events.flags,
            *state_args(state), events.n_records, True, *out,
        )  # fmt: skip
        if done:
            break
        out = tuple(np.concatenate([a, np.zeros_like(a)]) for a in out)  # type: ignore[assignment]
    n = int(state["st"][k.N_OUT])
    st = state["st"]
    counters = {
        "unknown_cancels": int(st[k.UNKNOWN_CANCELS]),
        "unknown_modifies": int(st[k.UNKNOWN_MODIFIES]),
        "duplicate_adds": int(st[k.DUPLICATE_ADDS]),
        "snapshots": int(st[k.SNAPSHOTS]),
        "live_orders_at_end": int(st[k.LIVE_ORDERS]),
        "crossed_events": int(st[k.CROSSED_EVENTS]),
    }
    return DerivedL2(out[0][:n], out[1][:n], out[2][:n], out[3][:n].astype(bool), counters)


def _outputs(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return (np.zeros(n, np.int64), np.zeros(n, np.int32), np.zeros(n, np.int64), np.zeros(n, np.uint8))


def trade_rows(records: MboRecords) -> np.ndarray:
    """Indices of the records that are public trades (Databento ``T``: side is the aggressor)."""
    return np.flatnonzero(records.action == TRADE)
