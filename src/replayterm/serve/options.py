"""tardis-machine request options, parsed and checked against what the server has.

``options`` is one object or an array of objects (merged by receive time), each with
``exchange``, ``symbols``, ``from``, ``to``, ``dataTypes`` and ``withDisconnectMessages``.
As tardis-dev does, ``from`` and ``to`` are floored to the minute (it replays whole per-minute
slices). Extensions, each only when asked for: ``exactRange`` (use the times as given),
``openingSnapshot`` (a replay that starts inside the data begins with the book at that moment;
tardis-dev sends no book until the recording's next snapshot), ``from``/``to`` may be omitted
(the whole files).
Our own: ``speed`` (WebSocket: x real time from the first message, or ``"max"``).
Anything wrong raises ``OptionsError`` with a message that says what and how to fix it; the
server turns it into HTTP 400 or a WebSocket close with a JSON error.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from replayterm.core.data import parse_time
from replayterm.serve.catalog import Catalog, Market

MAX_DEPTH = 1000
MINUTE_US = 60_000_000
UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000}


class OptionsError(ValueError):
    """A request the server cannot serve; the message is shown to the client as is."""


@dataclass(frozen=True)
class SnapshotSpec:
    name: str
    depth: int
    interval_ms: int
    grouping: float = 0.0


@dataclass(frozen=True)
class TradeBarSpec:
    name: str
    kind: str  # "time" | "volume" | "tick"
    interval: float  # ms for time bars, amount for volume bars, trades for tick bars


@dataclass(frozen=True)
class DataTypes:
    """The parsed ``dataTypes`` of one options object."""

    trade: bool = False
    book_change: bool = False
    derivative_ticker: bool = False
    liquidation: bool = False
    disconnect: bool = False
    book_ticker: bool = False
    snapshots: tuple[SnapshotSpec, ...] = ()
    trade_bars: tuple[TradeBarSpec, ...] = ()

    @property
    def needs_book(self) -> bool:
        return self.book_change or bool(self.snapshots)

    @property
    def names(self) -> list[str]:
        out = [
            n
            for n in ("trade", "book_change", "derivative_ticker", "liquidation", "disconnect", "book_ticker")
            if getattr(self, n)
        ]
        return out + [s.name for s in self.snapshots] + [b.name for b in self.trade_bars]


@dataclass
class Selection:
    """One options object resolved: the markets to replay and what to send for each."""

    exchange: str
    markets: list[Market]
    types: DataTypes
    with_disconnects: bool = False
    from_ts: int | None = None  # this selection's own range (receive time); None = the request's
    to_ts: int | None = None
    opening_snapshot: bool = False  # extension: start mid-data with the book at that moment


@dataclass
class Request:
    selections: list[Selection] = field(default_factory=list)
    from_ts: int = 0  # receive time, inclusive
    to_ts: int = 0  # receive time, exclusive
    speed: float | None = None  # WebSocket pacing from the start: x real time; None = as fast as read


def _speed(value: Any, where: str) -> float | None:
    if value == "max":
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise OptionsError(f'{where}"speed" must be a number > 0 (x real time) or "max", got {value!r}')
    return float(value)


_SNAPSHOT = re.compile(r"^book_snapshot_(\d+)_(?:grouped(\d+(?:\.\d+)?)_)?(\d+)(ms|s|m)$")
_QUOTE = re.compile(r"^quote(?:_(\d+)(ms|s|m))?$")
_TRADE_BAR = re.compile(r"^trade_bar_(\d+(?:\.\d+)?)(ms|s|m|ticks|vol)$")
_SIMPLE = {"trade", "book_change", "derivative_ticker", "liquidation", "disconnect", "book_ticker"}
KNOWN_TYPES_HELP = (
    "trade, book_change, book_ticker, book_snapshot_{depth}_{interval}{ms|s|m}, "
    "book_snapshot_{depth}_grouped{step}_{interval}{ms|s|m}, quote, quote_{interval}{ms|s|m}, "
    "trade_bar_{n}{ms|s|m|ticks|vol}, derivative_ticker, liquidation, disconnect"
)


def parse_data_types(values: Any) -> DataTypes:
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise OptionsError(f'"dataTypes" must be a non-empty list of names, e.g. ["trade", "book_change"]; '
                           f"known: {KNOWN_TYPES_HELP}")  # fmt: skip
    flags: dict[str, bool] = {}
    snapshots: list[SnapshotSpec] = []
    bars: list[TradeBarSpec] = []
    for name in values:
        if name in _SIMPLE:
            flags[name] = True
        elif m := _SNAPSHOT.match(name):
            depth = int(m.group(1))
            if not 1 <= depth <= MAX_DEPTH:
                raise OptionsError(f"data type {name!r}: depth must be 1..{MAX_DEPTH}")
            grouping = float(m.group(2)) if m.group(2) else 0.0
            if m.group(2) and grouping <= 0:
                raise OptionsError(f"data type {name!r}: the grouping step must be > 0")
            snapshots.append(SnapshotSpec(name, depth, int(m.group(3)) * UNIT_MS[m.group(4)], grouping))
        elif m := _QUOTE.match(name):
            interval = int(m.group(1)) * UNIT_MS[m.group(2)] if m.group(1) else 0
            snapshots.append(SnapshotSpec(name, 1, interval))
        elif m := _TRADE_BAR.match(name):
            value, unit = float(m.group(1)), m.group(2)
            if value <= 0:
                raise OptionsError(f"data type {name!r}: the bar size must be > 0")
            if unit in UNIT_MS:
                bars.append(TradeBarSpec(name, "time", value * UNIT_MS[unit]))
            else:
                bars.append(TradeBarSpec(name, "tick" if unit == "ticks" else "volume", value))
        else:
            raise OptionsError(f"unknown data type {name!r}; known: {KNOWN_TYPES_HELP}")
    return DataTypes(
        snapshots=tuple(dict.fromkeys(snapshots)), trade_bars=tuple(dict.fromkeys(bars)), **flags
    )


def _time(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise OptionsError(f'"{name}" must be an ISO-8601 UTC time such as "2024-07-19T00:00:00Z" or µs')
    try:
        return parse_time(value)
    except ValueError as exc:
        raise OptionsError(f'"{name}": {exc}') from None


def parse_options(text: str | None, catalog: Catalog) -> Request:
    """Parse the ``options`` query parameter into a ``Request``; raises ``OptionsError``."""
    if text is None or not text.strip():
        raise OptionsError('missing "options" query parameter (a JSON object or array of objects)')
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OptionsError(f'"options" is not valid JSON: {exc}') from None
    return resolve(raw, catalog)


def resolve(raw: Any, catalog: Catalog) -> Request:
    items = raw if isinstance(raw, list) else [raw]
    if not items or not all(isinstance(i, dict) for i in items):
        raise OptionsError('"options" must be an object or a non-empty array of objects')
    span = catalog.span or (0, 0)
    request = Request()
    froms, tos = [], []
    speeds: set[float | None] = set()
    for i, item in enumerate(items):
        where = f"options[{i}]: " if isinstance(raw, list) else ""
        exchange = item.get("exchange")
        if not isinstance(exchange, str):
            raise OptionsError(f'{where}"exchange" is required (served: {", ".join(catalog.exchanges())})')
        if exchange not in catalog.exchanges():
            raise OptionsError(
                f"{where}exchange {exchange!r} is not in the served files "
                f"(served: {', '.join(catalog.exchanges())})"
            )
        types = parse_data_types(item.get("dataTypes"))
        symbols = item.get("symbols")
        if symbols is None or symbols == []:
            markets = [m for m in (catalog.find(exchange, s) for s in catalog.symbols(exchange)) if m]
        elif isinstance(symbols, list) and all(isinstance(s, str) for s in symbols):
            markets = []
            for s in symbols:
                market = catalog.find(exchange, s)
                if market is None:
                    raise OptionsError(
                        f"{where}symbol {s!r} is not in the served files for {exchange} "
                        f"(served: {', '.join(catalog.symbols(exchange))})"
                    )
                markets.append(market)
        else:
            raise OptionsError(f'{where}"symbols" must be a list of symbol names')
        exact = _flag(item, "exactRange", where)
        lo = _time(item["from"], "from") if item.get("from") is not None else span[0]
        hi = _time(item["to"], "to") if item.get("to") is not None else span[1] + 1
        if lo >= hi:
            raise OptionsError(f'{where}"from" must be before "to"')
        if not exact:
            if item.get("from") is not None:
                lo = _floor_minute(lo)
            if item.get("to") is not None:
                hi = _floor_minute(hi)
            if lo >= hi:
                raise OptionsError(
                    f'{where}"from" and "to" fall in the same minute; tardis-machine replays whole minutes '
                    '(floored), so ask for a later "to" or pass "exactRange": true'
                )
        froms.append(lo)
        tos.append(hi)
        if "speed" in item:
            speeds.add(_speed(item["speed"], where))
        with_disconnects = bool(item.get("withDisconnectMessages", False)) or types.disconnect
        request.selections.append(
            Selection(
                exchange, list(dict.fromkeys(markets)), types, with_disconnects, lo, hi,
                opening_snapshot=_flag(item, "openingSnapshot", where),
            )
        )  # fmt: skip
    if len(speeds) > 1:
        raise OptionsError('"speed" differs between the options; one replay has one speed')
    request.from_ts = min(froms)
    request.to_ts = max(tos)
    request.speed = next(iter(speeds), None)
    return request


def _floor_minute(ts: int) -> int:
    return ts - ts % MINUTE_US


def _flag(item: dict[str, Any], name: str, where: str) -> bool:
    value = item.get(name, False)
    if not isinstance(value, bool):
        raise OptionsError(f'{where}"{name}" must be true or false')
    return value
