"""Strategy plugins: the ``Strategy`` base class, the ``ctx`` a strategy gets, plugin loading,
and the runtime that drives strategies through a replay (runner, slots, watchdog).

Strategy files usually need only::

    from replayterm.core.strategy import BUY, SELL, Order, Strategy, StrategyContext, TimeInForce
"""

from replayterm.core.execution.orders import BUY, SELL, Ack, Cancelled, Fill, Order, Reject, TimeInForce
from replayterm.core.strategy.base import NoParams, Strategy, build_params, params_from_strings
from replayterm.core.strategy.context import (
    InstrumentInfo,
    MarketBook,
    PnLSnapshot,
    StrategyContext,
    Trade,
    TradeView,
)
from replayterm.core.strategy.errors import StrategyAborted, StrategyError, StrategyStatus
from replayterm.core.strategy.loader import (
    StrategyLoadError,
    available_strategies,
    load_strategy_class,
    reload_strategy_class,
)

__all__ = [
    "BUY",
    "SELL",
    "Ack",
    "Cancelled",
    "Fill",
    "InstrumentInfo",
    "MarketBook",
    "NoParams",
    "Order",
    "PnLSnapshot",
    "Reject",
    "Strategy",
    "StrategyAborted",
    "StrategyContext",
    "StrategyError",
    "StrategyLoadError",
    "StrategyStatus",
    "TimeInForce",
    "Trade",
    "TradeView",
    "available_strategies",
    "build_params",
    "load_strategy_class",
    "params_from_strings",
    "reload_strategy_class",
]
