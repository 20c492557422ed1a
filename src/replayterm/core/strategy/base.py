"""The strategy plugin API: subclass ``Strategy`` in a plain ``.py`` file.

How strategies are run: docs/architecture.md, "Strategy runtime".

Callbacks run on the replay thread in simulated time and must not read the wall clock. Each
callback is isolated: an exception disables that strategy only, and the replay goes on.
Callbacks a class does not override are never called (they cost nothing).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from replayterm.core.strategy.context import StrategyContext


@dataclasses.dataclass
class NoParams:
    """Parameters of a strategy that has none."""


class Strategy:
    """Base class of every strategy. Override the callbacks you need; all default to doing nothing.

    ``Params`` is a dataclass; the GUI builds its form from the fields (int, float, bool, str).
    The instance gets its parameters as ``self.params``.
    """

    name: ClassVar[str] = "strategy"
    Params: ClassVar[type] = NoParams
    # What the strategy trades: "exchange:symbol" names (or symbols). Empty: the instrument the
    # user picks (the focused one). A ``Params`` field named ``instruments`` (a comma-separated
    # string) overrides it. The first is ``ctx.book``/``ctx.position``; all are in ``ctx.books``.
    instruments: ClassVar[tuple[str, ...]] = ()

    def __init__(self, params: Any | None = None) -> None:
        self.params = params if params is not None else self.Params()

    def on_start(self, ctx: StrategyContext) -> None:
        """Once, before the first event."""

    def on_book(self, ctx: StrategyContext, book: Any) -> None:
        """After each complete book message of the strategy's instrument (never half a message).
        ``book`` is ``ctx.book``: best_bid(), best_ask(), levels(side, n), mid(), imbalance(n)..."""

    def on_trade(self, ctx: StrategyContext, trade: Any) -> None:
        """After each public trade of the strategy's instrument. ``trade`` has local_ts, exch_ts,
        side (taker: +1 buy, -1 sell, 0 unknown), price and amount; it is reused for the next
        trade, so keep ``trade.copy()`` rather than ``trade``."""

    def on_fill(self, ctx: StrategyContext, fill: Any) -> None:
        """When one of this strategy's orders fills (after the response latency). ``fill`` is an
        ``execution.Fill``; ``ctx.position`` already includes it."""

    def on_order(self, ctx: StrategyContext, event: Any) -> None:
        """Any other answer about an order: ``Ack``, ``Reject`` or ``Cancelled`` (execution)."""

    def on_ticker(self, ctx: StrategyContext, ticker: Any) -> None:
        """After each derivative_ticker row of a traded instrument: ``funding_rate``,
        ``predicted_funding_rate``, ``funding_timestamp``, ``mark_price``, ``index_price``,
        ``last_price``, ``open_interest`` (NaN when absent), ``basis`` and ``instrument``.
        Reused for the next row."""

    def on_liquidation(self, ctx: StrategyContext, liq: Any) -> None:
        """After each liquidation of a traded instrument: ``side`` (+1 a short was bought in,
        -1 a long was sold out), ``price``, ``amount``, ``instrument``. Reused for the next one."""

    def on_timer(self, ctx: StrategyContext) -> None:
        """When a timer set with ``ctx.set_timer`` expires (in simulated time)."""

    def on_stop(self, ctx: StrategyContext) -> None:
        """Once, at the end of the data (not when the replay is merely paused)."""


def params_from_strings(params_type: type, values: dict[str, str]) -> Any:
    """Build a ``Params`` instance from ``name=value`` strings, converting to the field types.

    Raises ValueError naming the field and what was expected.
    """
    if not dataclasses.is_dataclass(params_type):
        raise ValueError(f"{params_type.__name__} is not a dataclass")
    fields = {f.name: f for f in dataclasses.fields(params_type)}
    kwargs: dict[str, Any] = {}
    for key, raw in values.items():
        if key not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise ValueError(f"unknown parameter '{key}' (known: {known})")
        kwargs[key] = convert_param(fields[key], raw)
    return params_type(**kwargs)


def convert_param(field: dataclasses.Field[Any], raw: str) -> Any:
    kind = field.type if isinstance(field.type, type) else _resolve_annotation(str(field.type))
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind in (int, float, str):
            return kind(raw)
    except ValueError:
        raise ValueError(
            f"parameter '{field.name}' expects {getattr(kind, '__name__', kind)}, got {raw!r}"
        ) from None
    return raw


def _resolve_annotation(text: str) -> type | None:
    return {"int": int, "float": float, "bool": bool, "str": str}.get(text.strip())


def build_params(params_type: type, params: Any = None, *, strict: bool = True) -> Any:
    """A ``Params`` instance from None (defaults), an instance, or a mapping of field values
    (strings are converted like ``params_from_strings``). With ``strict=False`` unknown fields
    are dropped instead of rejected (used when a reloaded strategy changed its fields)."""
    if params is None:
        return params_type()
    if isinstance(params, params_type):
        return params
    if dataclasses.is_dataclass(params) and not isinstance(params, type):
        params = dataclasses.asdict(params)
    if not isinstance(params, dict):
        raise ValueError(
            f"parameters must be a {params_type.__name__} or a dict, got {type(params).__name__}"
        )
    fields = (
        {f.name: f for f in dataclasses.fields(params_type)} if dataclasses.is_dataclass(params_type) else {}
    )
    kwargs: dict[str, Any] = {}
    for key, value in params.items():
        if key not in fields:
            if strict:
                known = ", ".join(sorted(fields)) or "none"
                raise ValueError(f"unknown parameter '{key}' (known: {known})")
            continue
        kwargs[key] = convert_param(fields[key], value) if isinstance(value, str) else value
    return params_type(**kwargs)
