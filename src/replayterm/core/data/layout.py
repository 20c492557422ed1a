"""Which Tardis dataset a file holds, decided from its column names (the header).

The file name only breaks ties between types whose headers are identical (``trades`` vs
``liquidations``, ``quotes`` vs ``book_ticker``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from replayterm.core.data.model import Kind
from replayterm.core.errors import DataError

COMMON = ("exchange", "symbol", "timestamp", "local_timestamp")

# Columns each type needs beyond COMMON, in Tardis order.
SPECIFIC: dict[Kind, tuple[str, ...]] = {
    Kind.BOOK: ("is_snapshot", "side", "price", "amount"),
    Kind.TRADES: ("id", "side", "price", "amount"),
    Kind.LIQUIDATIONS: ("id", "side", "price", "amount"),
    Kind.QUOTES: ("ask_amount", "ask_price", "bid_price", "bid_amount"),
    Kind.BOOK_TICKER: ("ask_amount", "ask_price", "bid_price", "bid_amount"),
    Kind.DERIVATIVE_TICKER: (
        "funding_timestamp",
        "funding_rate",
        "predicted_funding_rate",
        "open_interest",
        "last_price",
        "index_price",
        "mark_price",
    ),
}

# Our normalized column names, accepted in Parquet/Arrow inputs.
NORMALIZED_TO_TARDIS = {"local_ts": "local_timestamp", "exch_ts": "timestamp"}

_LEVEL = re.compile(r"^(asks|bids)\[(\d+)\]\.(price|amount)$")

EXAMPLE_HEADERS = (
    "incremental_book_L2: exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount; "
    "trades: exchange,symbol,timestamp,local_timestamp,id,side,price,amount"
)


@dataclass(frozen=True)
class Layout:
    """A detected dataset type and the columns to read for it."""

    kind: Kind
    columns: tuple[str, ...]  # Tardis names, in reading order
    snapshot_depth: int | None = None
    file_columns: tuple[str, ...] = ()  # the same columns as named in the file

    def __post_init__(self) -> None:
        if not self.file_columns:
            object.__setattr__(self, "file_columns", self.columns)

    @property
    def label(self) -> str:
        if self.kind is Kind.BOOK_SNAPSHOT:
            return f"book_snapshot_{self.snapshot_depth}"
        return self.kind.value


def level_columns(depth: int) -> tuple[str, ...]:
    """book_snapshot_N level columns in Tardis order: asks[0].price, asks[0].amount, bids[0]..."""
    return tuple(
        f"{side}[{i}].{field}"
        for i in range(depth)
        for side in ("asks", "bids")
        for field in ("price", "amount")
    )


def _tie_break(kinds: list[Kind], path: Path) -> Kind:
    name = path.name.lower()
    for kind in kinds:
        if kind.value.lower() in name:
            return kind
    # Plain Tardis names without a hint: the more common type wins.
    for kind in (Kind.BOOK, Kind.TRADES, Kind.QUOTES, Kind.DERIVATIVE_TICKER):
        if kind in kinds:
            return kind
    return kinds[0]


def detect_layout(header: Sequence[str], path: Path, hint: Kind | None = None) -> Layout:
    """The layout for a header (column names), or a ``DataError`` saying what does not fit.

    ``hint`` (e.g. stored by our own converter) decides between identical headers.
    """
    cleaned = [n.strip().lstrip("\ufeff").strip() for n in header]
    names = [NORMALIZED_TO_TARDIS.get(n, n) for n in cleaned]
    in_file = dict(zip(names, header, strict=True))
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DataError(
                path,
                "the header names a column twice",
                line=1,
                column=name,
                hint="Remove the duplicate column",
            )
        seen.add(name)

    levels = [m for m in map(_LEVEL.match, names) if m]
    if levels:
        depth = max(int(m[2]) for m in levels) + 1
        wanted = (*COMMON, *level_columns(depth))
        _require(wanted, seen, path, "book_snapshot")
        return Layout(Kind.BOOK_SNAPSHOT, wanted, depth, tuple(in_file[c] for c in wanted))

    full = [kind for kind, cols in SPECIFIC.items() if seen.issuperset((*COMMON, *cols))]
    if full:
        best = max(len(SPECIFIC[k]) for k in full)
        kinds = [k for k in full if len(SPECIFIC[k]) == best]
        kind = hint if hint in kinds else _tie_break(kinds, path)
        wanted = (*COMMON, *SPECIFIC[kind])
        return Layout(kind, wanted, None, tuple(in_file[c] for c in wanted))

    # Close to one type but missing a column or two: name the missing one.
    def score(kind: Kind) -> tuple[int, int]:
        wanted = (*COMMON, *SPECIFIC[kind])
        return (sum(c in seen for c in wanted), sum(c in seen for c in SPECIFIC[kind]))

    closest = max(SPECIFIC, key=score)
    present, specific_present = score(closest)
    wanted = (*COMMON, *SPECIFIC[closest])
    if present >= len(wanted) - 2 and specific_present >= 2:
        _require(wanted, seen, path, closest.value)
    shown = ",".join(header)
    raise DataError(
        path,
        "unknown header: not one of the Tardis CSV types ReplayTerm reads (incremental_book_L2, trades, "
        "book_snapshot_N, quotes, book_ticker, derivative_ticker, liquidations)",
        line=1,
        value=shown,
        hint=f"Open a Tardis.dev CSV file; for example {EXAMPLE_HEADERS}",
    )


def _require(wanted: Sequence[str], seen: set[str], path: Path, type_name: str) -> None:
    missing = [c for c in wanted if c not in seen]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise DataError(
            path,
            f"missing column for a Tardis {type_name} file{more}",
            line=1,
            column=missing[0],
            hint=f"The header must contain: {','.join(wanted[:12])}{',...' if len(wanted) > 12 else ''}",
        )
