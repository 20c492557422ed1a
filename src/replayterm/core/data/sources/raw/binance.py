"""Binance spot (``binance``), USD-M (``binance-futures``) and COIN-M (``binance-delivery``)
combined-stream messages, normalized as tardis-dev does (``src/mappers/binance.ts``):

- depth: a REST snapshot (``lastUpdateId``; tardis-dev's generated ``<symbol>@depthSnapshot``)
  plus diff updates; buffered updates are merged into the snapshot; exchange time ``T`` on futures,
  ``E`` on spot; the snapshot's exchange time is its ``T`` (receive time when absent);
- sequence: futures ``pu`` equals the previous ``u``, the first update has ``U <= lastUpdateId <=
  u`` and updates with ``u < lastUpdateId`` are dropped; spot ``U`` equals the previous ``u + 1``,
  the first has ``U <= lastUpdateId + 1 <= u`` and updates with ``u <= lastUpdateId`` are dropped;
- trades (``@trade`` and ``@aggTrade``): the taker side is sell when the buyer is the maker
  (``m``); insurance-fund and ADL trades are not market trades and are skipped; time ``T``;
- ``@bookTicker``: best bid/offer, time ``T`` (receive time when absent, as on spot).
"""

from __future__ import annotations

from typing import Any

from replayterm.core.data.sources.raw.book_sync import BookSync, Rule, Update
from replayterm.core.data.sources.raw.tables import RawTables


class FuturesRule(Rule):
    name = "binance-futures"

    def follows(self, prev_last: int, u: Update) -> bool:
        return u.prev == prev_last

    def straddles(self, snap_id: int, u: Update) -> bool:
        # A snapshot taken exactly at an update's end (a generated one) is continued by ``pu``.
        return u.first <= snap_id <= u.last or u.prev == snap_id

    def older_than_snapshot(self, snap_id: int, u: Update) -> bool:
        return u.last < snap_id

    def expected(self, prev_last: int, u: Update) -> str:
        return f"pu {u.prev} of update {u.first}..{u.last} is not the previous update's u {prev_last}"


class SpotRule(Rule):
    name = "binance"

    def follows(self, prev_last: int, u: Update) -> bool:
        return u.first == prev_last + 1

    def straddles(self, snap_id: int, u: Update) -> bool:
        return u.first <= snap_id + 1 <= u.last

    def older_than_snapshot(self, snap_id: int, u: Update) -> bool:
        return u.last <= snap_id

    def expected(self, prev_last: int, u: Update) -> str:
        return (
            f"U {u.first} of update {u.first}..{u.last} is not the previous update's u + 1 ({prev_last + 1})"
        )


def market_of(symbol: str, data: dict[str, Any]) -> str:
    """The tardis exchange name of a Binance message's market."""
    if "_" in symbol:
        return "binance-delivery"  # COIN-M symbols: BTCUSD_PERP, BTCUSD_240927
    if "pu" in data or ("e" in data and data.get("e") == "bookTicker") or "X" in data:
        return "binance-futures"
    return "binance"


class BinanceFeed:
    """Routes one recording's Binance messages; ``exchange`` fixes the market when known (a
    tardis cache folder, a cryptofeed header), else it is told from each symbol's messages."""

    def __init__(self, out: RawTables, exchange: str | None = None) -> None:
        self.out = out
        self.exchange = exchange
        self.books: dict[str, BookSync] = {}
        self._market: dict[str, str] = {}
        self._pending_rest: tuple[int, dict[str, Any]] | None = None
        self.unknown = 0

    def _exchange(self, symbol: str, data: dict[str, Any]) -> str:
        if self.exchange is not None:
            return self.exchange
        known = self._market.get(symbol)
        found = market_of(symbol, data)
        if known is None or (known == "binance" and found != "binance"):
            self._market[symbol] = found
            return found
        return known

    def book(self, exchange: str, symbol: str) -> BookSync:
        sync = self.books.get(symbol)
        if sync is None:
            rule: Rule = SpotRule() if exchange == "binance" else FuturesRule()
            sync = self.books[symbol] = BookSync(exchange, symbol, rule, self.out)
        return sync

    def message(self, local: int, msg: dict[str, Any]) -> None:
        stream = msg.get("stream")
        data = msg.get("data")
        if not isinstance(stream, str) or not isinstance(data, dict):
            if "lastUpdateId" in msg:  # a bare REST depth response (hftbacktest collector)
                self.rest_snapshot(local, None, msg)
            else:
                self.unknown += 1
            return
        name, _, channel = stream.partition("@")
        if channel.startswith("depthSnapshot") or "lastUpdateId" in data:
            self.rest_snapshot(local, name.upper(), data)
        elif channel.startswith("depth"):
            self.depth(local, data)
        elif channel in ("trade", "aggTrade"):
            self.trade(local, data, channel)
        elif channel == "bookTicker":
            self.book_ticker(local, data)
        else:
            self.unknown += 1

    def rest_snapshot(self, local: int, symbol: str | None, data: dict[str, Any]) -> None:
        if symbol is None:
            # The collector's REST line names no symbol: it belongs to the book being built
            # (the one symbol still waiting for a snapshot, else the only one).
            waiting = [s for s, b in self.books.items() if not b._synced] or list(self.books)
            if not waiting:  # before any update: it is the book of the first symbol that comes
                self._pending_rest = (local, data)
                return
            symbol = waiting[0]
        exchange = self.books[symbol].exchange if symbol in self.books else self._exchange(symbol, data)
        sync = self.book(exchange, symbol)
        exch = int(data["T"]) * 1000 if data.get("T") is not None else local
        sync.snapshot(
            local, exch, int(data["lastUpdateId"]), data["bids"], data["asks"], "a REST depth snapshot"
        )

    def depth(self, local: int, d: dict[str, Any]) -> None:
        symbol = d["s"]
        exchange = self._exchange(symbol, d)
        if self._pending_rest is not None and symbol not in self.books:
            at, rest = self._pending_rest
            self._pending_rest = None
            self.book(exchange, symbol)
            self.rest_snapshot(at, symbol, rest)
        futures = "pu" in d
        exch_ms = d.get("T") if futures and d.get("T") is not None else d.get("E")
        self.book(exchange, symbol).update(
            Update(
                local,
                int(exch_ms) * 1000 if exch_ms is not None else local,
                int(d["U"]),
                int(d["u"]),
                int(d["pu"]) if futures else None,
                d.get("b", []),
                d.get("a", []),
            )
        )

    def trade(self, local: int, d: dict[str, Any], channel: str) -> None:
        if d.get("X") in ("INSURANCE_FUND", "ADL", "NA"):
            return
        symbol = d["s"]
        ident = d.get("t") if channel == "trade" else d.get("a")
        self.out.trade(
            self._exchange(symbol, d),
            symbol,
            local,
            int(d["T"]) * 1000,
            -1 if d.get("m") else 1,
            float(d["p"]),
            float(d["q"]),
            str(ident),
        )

    def book_ticker(self, local: int, d: dict[str, Any]) -> None:
        symbol = d["s"]
        t = d.get("T")
        self.out.quote(
            self._exchange(symbol, d),
            symbol,
            local,
            int(t) * 1000 if t is not None else local,
            (float(d["b"]), float(d["B"])),
            (float(d["a"]), float(d["A"])),
        )
