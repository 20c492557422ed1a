"""Warming a process up for runs: a tiny replay with a trading strategy, in memory.

The first run in a fresh process pays for numba's type system and for loading the compiled book
kernels from their on-disk cache (about a second). The local pool's fork server imports this
module once; the workers it forks inherit a warm interpreter, so every run costs only itself.
Failures are swallowed: warming up is an optimisation, never a reason to fail.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pyarrow as pa

log = logging.getLogger(__name__)


def _tiny_sources() -> list[Any]:
    from replayterm.core.data.model import BOOK_SCHEMA, TRADES_SCHEMA, Kind, Source

    t0 = 1_700_000_000_000_000
    book_rows: dict[str, list[Any]] = {
        "exchange": ["warm"] * 6,
        "symbol": ["WARM"] * 6,
        "local_ts": [t0, t0, t0, t0, t0 + 1000, t0 + 2000],
        "exch_ts": [t0, t0, t0, t0, t0 + 1000, t0 + 2000],
        "side": [1, 1, -1, -1, 1, -1],
        "price": [99.0, 98.0, 101.0, 102.0, 100.0, 101.0],
        "amount": [1.0, 2.0, 1.0, 2.0, 1.5, 0.0],
        "is_snapshot": [True, True, True, True, False, False],
    }
    trade_rows: dict[str, list[Any]] = {
        "exchange": ["warm"],
        "symbol": ["WARM"],
        "local_ts": [t0 + 1500],
        "exch_ts": [t0 + 1500],
        "side": [1],
        "price": [101.0],
        "amount": [0.5],
        "id": ["1"],
    }
    path = Path("warm-up")
    return [
        Source(path, Kind.BOOK, "warm", "WARM", pa.Table.from_pydict(book_rows, schema=BOOK_SCHEMA)),
        Source(path, Kind.TRADES, "warm", "WARM", pa.Table.from_pydict(trade_rows, schema=TRADES_SCHEMA)),
    ]


def warm_up() -> bool:
    """Run the tiny replay; True when it went through."""
    try:
        from replayterm.core.session import ReplaySession
        from replayterm.core.strategy import Strategy

        class _Buyer(Strategy):
            name = "warm-up"

            def on_book(self, ctx: Any, book: Any) -> None:
                if ctx.position == 0:
                    ctx.buy(0.1)

        session = ReplaySession(_tiny_sources())
        try:
            handle = session.add_strategy(_Buyer)
            session.run_to_end()
            session.summary(handle)
        finally:
            session.close()
        return True
    except Exception:  # an optimisation only
        log.debug("warm-up failed", exc_info=True)
        return False


WARM = warm_up()
