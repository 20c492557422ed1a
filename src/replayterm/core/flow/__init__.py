"""Order flow from trades: bars, footprint, volume profile, CVD and VWAP (Qt-free).

Every figure is computed from exact integers (prices in ticks, sizes in lots) merged from a
1-second table stored beside the cache entry (``flow.index``) plus the raw trades at the edges of
the asked range, so a view after any seek equals a forward replay to the same moment.
"""

from replayterm.core.flow.api import OrderFlow, ProfileResult, Table
from replayterm.core.flow.grid import Grid, GridError, detect_grid
from replayterm.core.flow.index import FlowIndex, TradeColumns, open_flow
from replayterm.core.flow.spec import BarSpec, Sessions, SpecError, parse_interval, parse_sessions

__all__ = [
    "BarSpec",
    "FlowIndex",
    "Grid",
    "GridError",
    "OrderFlow",
    "ProfileResult",
    "Sessions",
    "SpecError",
    "Table",
    "TradeColumns",
    "detect_grid",
    "open_flow",
    "parse_interval",
    "parse_sessions",
]
