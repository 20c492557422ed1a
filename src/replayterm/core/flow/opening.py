"""Order flow straight from files: the trades of each instrument, without indexing any book."""

from __future__ import annotations

from collections.abc import Sequence

from replayterm.core.data import open_sources
from replayterm.core.data.model import Kind
from replayterm.core.flow.api import OrderFlow
from replayterm.core.flow.index import CancelFn, ProgressFn


def open_file_flows(
    paths: Sequence[str], progress: ProgressFn | None = None, cancel: CancelFn | None = None
) -> dict[str, OrderFlow]:
    """``{"exchange:symbol": OrderFlow}`` for every instrument with trades in ``paths`` (the files
    are read from the cache when converted before)."""
    from replayterm.core.replay.indexing import _ordered
    from replayterm.core.replay.instruments import _trade_stream

    sources = open_sources(list(paths), cancel=cancel)
    groups: dict[str, list] = {}
    for s in sources:
        if s.kind is Kind.TRADES and s.rows:
            groups.setdefault(f"{s.exchange}:{s.symbol}", []).append(s)
    out = {}
    for name, group in groups.items():
        out[name] = OrderFlow.open(_trade_stream(group), _ordered(group), progress=progress, cancel=cancel)
    return out
