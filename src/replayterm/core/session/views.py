"""What a session shows about its strategies: handles, status snapshots, metrics, mark prices."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from replayterm.core.data.timefmt import format_time
from replayterm.core.metrics import summarize
from replayterm.core.metrics.risk import DEFAULT_INTERVAL_US
from replayterm.core.replay.instruments import Instrument
from replayterm.core.strategy.context import PnLSnapshot
from replayterm.core.strategy.errors import StrategyError, StrategyStatus
from replayterm.core.strategy.slot import StrategySlot


@dataclass(frozen=True, slots=True)
class StrategyHandle:
    """Names one strategy of a session; pass it back to the session's methods."""

    id: int
    name: str


@dataclass(frozen=True, slots=True)
class StrategyInfo:
    """A snapshot of one strategy for a status line or a table row.

    ``run_id`` changes whenever the strategy's records were cleared (rewind, reload, new
    parameters, re-enable): a view holding "rows since k" must then start again from 0.
    ``finished`` is True once ``on_stop`` ran (the end of the data was reached).
    """

    handle: StrategyHandle
    name: str
    colour: str
    class_name: str
    spec: str | None
    instrument: str
    params: dict[str, Any]
    status: StrategyStatus
    error: StrategyError | None
    run_id: int
    finished: bool
    position: float
    avg_price: float
    pnl: PnLSnapshot
    fills: int
    open_orders: int
    signals: int


def info_of(slot: StrategySlot) -> StrategyInfo:
    acct = slot.account
    pnl = slot.ctx.total_pnl  # funding included; summed over the instruments of a multi-leg strategy
    params = params_dict(slot.params)
    return StrategyInfo(
        handle=StrategyHandle(slot.id, slot.name),
        name=slot.name,
        colour=slot.colour,
        class_name=slot.cls.__name__,
        spec=slot.spec,
        instrument=" + ".join(leg.instrument.name for leg in slot.legs),
        params=params,
        status=slot.status,
        error=slot.error,
        run_id=slot.run_id,
        finished=slot.stopped,
        position=acct.position,
        avg_price=acct.avg_price,
        pnl=pnl,
        fills=len(slot.all_fills) if slot.multi else len(acct.fills),
        open_orders=len(acct.open_orders()),
        signals=len(slot.signals),
    )


def params_dict(params: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(params) and not isinstance(params, type):
        return dataclasses.asdict(params)
    return {}


def mark_series(instrument: Instrument) -> tuple[np.ndarray, np.ndarray]:
    """(time, mid) after every book message with both sides present, from the top-of-book
    history recorded when the book was indexed; trade prices for a trades-only instrument."""
    replayer = instrument.book
    if replayer is not None:
        cps = replayer.checkpoints
        best = None if cps is None else cps.best_idx
        if best is not None:
            ok = (best[:, 0] >= 0) & (best[:, 1] >= 0)
            prices = replayer.events.prices
            mid = 0.5 * (prices[best[ok, 0]] + prices[best[ok, 1]])
            return replayer.events.group_ts[ok], mid
    if instrument.trades is not None:
        # numpy arrays (the trade columns may be chunked views of the mapped cache)
        return np.asarray(instrument.trades.local_ts), np.asarray(instrument.trades.price)
    return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)


def summary_of(
    slot: StrategySlot,
    marks: tuple[np.ndarray, np.ndarray],
    now: int,
    initial_cash: float,
    *,
    start: int | None = None,
    interval_us: int = DEFAULT_INTERVAL_US,
    leg_marks: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
) -> dict[str, Any]:
    """``metrics.summarize`` of the strategy's fills against the mid from ``start`` (the run's
    first event; the mid just before it opens the curve) up to ``now``, plus status."""
    mark_ts, mark = marks
    if mark_ts.shape[0] == 0:
        mark_ts, mark = _equity_marks(slot)
    end = int(np.searchsorted(mark_ts, now, side="right"))
    begin = 0
    if start is not None:
        # The mark in force at the start opens the curve, so equity starts at --from, not earlier.
        begin = max(int(np.searchsorted(mark_ts, start, side="right")) - 1, 0)
        mark_ts, mark = mark_ts.copy(), mark.copy()
        if begin < end and mark_ts[begin] < start:
            mark_ts[begin] = start
    metrics: dict[str, Any] = dict(
        summarize(
            slot.account.fill_table(),
            mark_ts[begin:end],
            mark[begin:end],
            initial_equity=max(initial_cash, 0.0),
            interval_us=interval_us,
        )
    )
    _add_funding(metrics, slot.funding[slot.instrument_index])
    per_instrument: dict[str, Any] = {slot.instrument.name: metrics}
    if slot.multi and leg_marks is not None:
        for leg in slot.legs[1:]:
            lts, lm = leg_marks[leg.index]
            lend = int(np.searchsorted(lts, now, side="right"))
            leg_metrics = dict(
                summarize(
                    slot.accounts[leg.index].fill_table(), lts[:lend], lm[:lend], interval_us=interval_us
                )
            )
            _add_funding(leg_metrics, slot.funding[leg.index])
            per_instrument[leg.instrument.name] = leg_metrics
        metrics = {key: sum(float(m.get(key) or 0.0) for m in per_instrument.values()) for key in _ADDITIVE}
        metrics["fills"] = int(metrics["fills"])
    info = info_of(slot)
    return {
        "name": slot.name,
        "class": slot.cls.__name__,
        "spec": slot.spec,
        "instrument": slot.instrument.name,
        "params": info.params,
        "status": str(slot.status),
        "finished": slot.stopped,
        "error": None
        if slot.error is None
        else {
            "ts": slot.error.ts,
            "callback": slot.error.callback,
            "kind": slot.error.kind,
            "message": slot.error.message,
            "traceback": slot.error.traceback,
        },
        "orders": len(slot.account.orders),
        "signals": len(slot.signals),
        "metrics": metrics,
        "instruments": list(per_instrument),
        "per_instrument": per_instrument if slot.multi else None,
        "warnings": list(slot.warnings),
    }


# Figures that add up over a strategy's instruments (the rest are per instrument only).
_ADDITIVE = (
    "fills",
    "volume",
    "turnover",
    "fees",
    "realized_pnl",
    "unrealized_pnl",
    "net_pnl",
    "funding",
    "net_pnl_with_funding",
)


def _add_funding(metrics: dict[str, Any], funding: float) -> None:
    """Funding received (negative: paid) and the net PnL including it."""
    metrics["funding"] = float(funding)
    net = metrics.get("net_pnl")
    metrics["net_pnl_with_funding"] = None if net is None else float(net) + float(funding)


def _equity_marks(slot: StrategySlot) -> tuple[np.ndarray, np.ndarray]:
    chunk = slot.equity.since(0)
    ts, mark = chunk["ts"], chunk["mark"]
    ok = np.isfinite(mark)
    return ts[ok], mark[ok]


def data_notes(instruments: list[Instrument]) -> list[str]:
    """Per instrument: the instrument's own notes, and book rows skipped before a first snapshot."""
    notes: list[str] = []
    for inst in instruments:
        notes.extend(inst.notes)
        if inst.book is None:
            notes.append(
                f"{inst.name}: no order book in the open files (incremental_book_L2, book_snapshot, "
                "quotes or book_ticker): the ladder and heatmap stay empty and orders cannot fill"
            )
        events = None if inst.book is None else inst.book.events
        if events is None or events.skipped_rows == 0:
            continue
        if events.first_snapshot_group >= events.n_groups:
            notes.append(
                f"{inst.name}: the book data has no snapshot, so the book stays empty "
                "(a start time inside a file cuts off its opening snapshot)"
            )
        else:
            first = format_time(int(events.group_ts[events.first_snapshot_group]))
            notes.append(
                f"{inst.name}: {events.skipped_rows:,} book rows before the first snapshot are "
                f"skipped; the book is empty until {first}"
            )
    return notes
