"""Which instruments a strategy trades, and what in the open data it will never see.

A strategy lists its instruments in the class attribute ``instruments`` or a ``Params`` field of
that name (a comma-separated string); "*" means every open instrument (the focused one first).
Empty means the focused instrument, as before several instruments existed.

"No silent nothing": a strategy that overrides ``on_book`` on an instrument without a book, or
``on_trade`` without trades, or trades an instrument it can never fill on, gets a warning that
the app, ``summary.json`` and the command line all show.
"""

from __future__ import annotations

from typing import Any

from replayterm.core.replay.instruments import Instrument
from replayterm.core.session.settings import resolve_instrument
from replayterm.core.strategy.base import Strategy
from replayterm.core.strategy.slot import StrategySlot


def wanted_instruments(cls: type[Strategy], params: Any) -> tuple[str, ...]:
    raw = getattr(params, "instruments", None)
    if isinstance(raw, str) and raw.strip():
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if isinstance(raw, (tuple, list)) and raw:
        return tuple(str(x) for x in raw)
    return tuple(getattr(cls, "instruments", ()) or ())


def strategy_legs(instruments: list[Instrument], cls: type[Strategy], params: Any, default: int) -> list[int]:
    """Instrument indices a strategy trades, first = its main instrument. ValueError naming the
    open instruments when a listed one is not open."""
    wanted = wanted_instruments(cls, params)
    if not wanted:
        return [default]
    if "*" in wanted:
        return [default, *(i for i in range(len(instruments)) if i != default)]
    legs: list[int] = []
    for name in wanted:
        try:
            i = resolve_instrument(instruments, name)
        except ValueError:
            open_names = ", ".join(inst.name for inst in instruments) or "none"
            raise ValueError(
                f"{cls.__name__} trades {name!r}, which is not in the open data (open: {open_names}); "
                "open its files or set the strategy's instruments"
            ) from None
        if i not in legs:
            legs.append(i)
    return legs


def _overrides(cls: type[Strategy], name: str) -> bool:
    return getattr(cls, name, None) is not getattr(Strategy, name)


def strategy_warnings(slot: StrategySlot) -> list[str]:
    """What the strategy will never see in the open data (one line each)."""
    cls = slot.cls
    out: list[str] = []
    for leg in slot.legs:
        inst = leg.instrument
        name = inst.name
        if not inst.has_events:
            out.append(f"{slot.name}: {name} has no events in the open data; no callback comes for it")
            continue
        if inst.book is None:
            if _overrides(cls, "on_book"):
                out.append(
                    f"{slot.name}: on_book is never called for {name}: no order book in the open data "
                    "(open an incremental_book_L2, book_snapshot, quotes or book_ticker file)"
                )
            out.append(
                f"{slot.name}: orders on {name} cannot fill and ctx.book is None: no order book in "
                "the open data (trades or tickers do not say what size was available)"
            )
        if inst.trades is None and _overrides(cls, "on_trade"):
            out.append(f"{slot.name}: on_trade is never called for {name}: no trades file is open")
        if inst.tickers is None and _overrides(cls, "on_ticker"):
            out.append(f"{slot.name}: on_ticker never called for {name}: no derivative_ticker file is open")
        if inst.liquidations is None and _overrides(cls, "on_liquidation"):
            out.append(f"{slot.name}: on_liquidation never called for {name}: no liquidations file open")
    return out
