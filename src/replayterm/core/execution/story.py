"""An order's life told in a few lines (``replayterm explain`` and the app's order inspector),
from ``OrderFacts.life()`` plus the strategy and instrument names."""

from __future__ import annotations

from typing import Any

from replayterm.core.data.numfmt import plain
from replayterm.core.data.timefmt import format_time

MAX_STEPS = 12


def _t(ts: int | None) -> str:
    return "-" if ts is None else format_time(int(ts))


def _q(x: float | None) -> str:
    return "-" if x is None else plain(float(x))


def _secs(us: int) -> str:
    return f"{us / 1e6:.3g} s" if us < 10_000_000 else f"{us / 1e6:,.0f} s"


def story(o: dict[str, Any]) -> str:
    price = "" if o["price"] is None else f" @ {plain(o['price'])}"
    lines = [
        f"order {o['order_id']} ({o['strategy']}, {o['instrument']}): {o['side']} {o['type']} "
        f"{plain(o['amount'])}{price} {o['tif']}",
        f"  decided   {_t(o['decided_ts'])}",
    ]
    if o["arrival_ts"] is not None:
        lines.append(
            f"  arrived   {_t(o['arrival_ts'])}  (entry latency {o['entry_latency_us'] / 1000:g} ms)"
        )
    if o["ahead_at_arrival"] is not None:
        lines.append(
            f"  queue     {o['queue_model']}: {_q(o['ahead_at_arrival'])} ahead of a level of "
            f"{_q(o['level_at_arrival'])} at arrival, {_q(o['ahead_at_end'])} at the end"
        )
        curve = o.get("queue_curve") or []
        if len(curve) > 1:
            start = curve[0][0]
            steps = [f"+{(t - start) / 1e6:.3g}s {plain(a)}" for t, a in curve[:MAX_STEPS]]
            more = f" … {len(curve) - MAX_STEPS} more steps" if len(curve) > MAX_STEPS else ""
            lines.append(f"  ahead     {', '.join(steps)}{more}")
    if o["trades_at_price"]:
        lines.append(
            f"  trades    {o['trades_at_price']} at its price while it rested, "
            f"{_q(o['traded_at_price'])} in all"
        )
    for f in o.get("fill_list") or []:
        lines.append(
            f"  fill      {_t(f['ts'])}  {plain(f['amount'])} @ {plain(f['price'])} ({f['liquidity']})"
        )
    if o["end_ts"] is not None:
        waited = o["time_in_queue_us"]
        after = f" after {_secs(waited)}" if waited is not None else ""
        lines.append(f"  ended     {_t(o['end_ts'])}{after}: {o['outcome']}")
    else:
        lines.append("  ended     still open when the run ended")
    lines.append(f"  why       {o['reason']}")
    return "\n".join(lines)
