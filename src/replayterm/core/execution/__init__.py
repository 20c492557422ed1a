"""Simulated exchange: orders, latency, queue position, fees and fills."""

from replayterm.core.execution.account import Account, OrderState, OrderStatus
from replayterm.core.execution.exchange import RestingOrder, SimExchange, snap_to_tick
from replayterm.core.execution.fee_table import EXCHANGE_FEES, ExchangeFees, default_fees
from replayterm.core.execution.fees import FeeSchedule
from replayterm.core.execution.latency import (
    DEFAULT_ONE_WAY_US,
    ConstantLatency,
    FeedLatency,
    FeedLatencyEstimate,
    FunctionLatency,
    LatencyModel,
    SampledLatency,
    default_latency,
    estimate_feed_latency,
    latency_from_feed,
)
from replayterm.core.execution.orders import (
    BUY,
    SELL,
    Ack,
    Cancelled,
    Event,
    Fill,
    Liquidity,
    Order,
    OrderType,
    Reject,
    TimeInForce,
)
from replayterm.core.execution.queue import LogShare, PowerShare, ProbQueue, QueueModel, RiskAverseQueue
from replayterm.core.execution.rules import FillRules

__all__ = [
    "BUY",
    "DEFAULT_ONE_WAY_US",
    "EXCHANGE_FEES",
    "SELL",
    "Account",
    "Ack",
    "Cancelled",
    "ConstantLatency",
    "Event",
    "ExchangeFees",
    "FeeSchedule",
    "FeedLatency",
    "FeedLatencyEstimate",
    "Fill",
    "FillRules",
    "FunctionLatency",
    "LatencyModel",
    "Liquidity",
    "LogShare",
    "Order",
    "OrderState",
    "OrderStatus",
    "OrderType",
    "PowerShare",
    "ProbQueue",
    "QueueModel",
    "Reject",
    "RestingOrder",
    "RiskAverseQueue",
    "SampledLatency",
    "SimExchange",
    "TimeInForce",
    "default_fees",
    "default_latency",
    "estimate_feed_latency",
    "latency_from_feed",
    "snap_to_tick",
]
