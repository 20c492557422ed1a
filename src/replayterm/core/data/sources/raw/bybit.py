"""Bybit v5 public streams (``bybit`` for linear/inverse, ``bybit-spot``), normalized as tardis-dev
does: ``orderbook.<depth>.<symbol>`` snapshot/delta messages (exchange time ``ts``), and
``publicTrade.<symbol>`` (taker side ``S``, id ``i``, time ``T``).

Sequence: every message carries the update id ``u``; a delta's ``u`` is the previous ``u + 1``. A
``snapshot`` (including ``u == 1``, sent after a service restart) replaces the book. ``seq`` (the
cross sequence) never decreases within a symbol.
"""

from __future__ import annotations

from typing import Any

from replayterm.core.data.sources.raw.book_sync import BookSync, Rule, Update
from replayterm.core.data.sources.raw.tables import RawTables


class BybitRule(Rule):
    name = "bybit"
    in_stream_snapshots = True

    def follows(self, prev_last: int, u: Update) -> bool:
        return u.first == prev_last + 1

    def straddles(self, snap_id: int, u: Update) -> bool:
        return u.first == snap_id + 1

    def older_than_snapshot(self, snap_id: int, u: Update) -> bool:
        return u.last <= snap_id

    def expected(self, prev_last: int, u: Update) -> str:
        return f"update id u {u.first} is not the previous u + 1 ({prev_last + 1})"


def exchange_of_address(address: str) -> str | None:
    if "bybit" not in address:
        return None
    return "bybit-spot" if "/spot" in address else "bybit"


class BybitFeed:
    def __init__(self, out: RawTables, exchange: str = "bybit") -> None:
        self.out = out
        self.exchange = exchange
        self.books: dict[tuple[str, str], BookSync] = {}
        self._seq: dict[tuple[str, str], int] = {}
        self.unknown = 0

    def book(self, exchange: str, symbol: str) -> BookSync:
        key = (exchange, symbol)
        sync = self.books.get(key)
        if sync is None:
            sync = self.books[key] = BookSync(exchange, symbol, BybitRule(), self.out)
        return sync

    def message(self, local: int, msg: dict[str, Any], exchange: str | None = None) -> None:
        exchange = exchange or self.exchange
        topic = msg.get("topic")
        if not isinstance(topic, str):
            self.unknown += 1  # subscription replies, pongs
            return
        if topic.startswith("orderbook."):
            self.depth(exchange, local, msg)
        elif topic.startswith("publicTrade."):
            for t in msg.get("data", []):
                side = t.get("S")
                self.out.trade(
                    exchange,
                    t["s"],
                    local,
                    int(t["T"]) * 1000,
                    1 if side == "Buy" else -1 if side == "Sell" else 0,
                    float(t["p"]),
                    float(t["v"]),
                    str(t.get("i", "")),
                )
        else:
            self.unknown += 1

    def depth(self, exchange: str, local: int, msg: dict[str, Any]) -> None:
        d = msg["data"]
        symbol = d["s"]
        exch = int(msg.get("ts", 0)) * 1000 or local
        u = int(d["u"])
        sync = self.book(exchange, symbol)
        seq = d.get("seq")
        if seq is not None:
            key = (exchange, symbol)
            prev = self._seq.get(key)
            if (
                prev is not None
                and int(seq) < prev
                and sync._open_gap is None
                and msg.get("type") != "snapshot"
            ):
                sync._start_gap(local, f"cross sequence seq {seq} went back from {prev}")
            self._seq[key] = int(seq)
        if msg.get("type") == "snapshot" or u == 1:
            how = "a new snapshot after a service restart (u == 1)" if u == 1 else "an in-stream snapshot"
            sync.snapshot(local, exch, u, d.get("b", []), d.get("a", []), how)
        else:
            sync.update(Update(local, exch, u, u, None, d.get("b", []), d.get("a", [])))
