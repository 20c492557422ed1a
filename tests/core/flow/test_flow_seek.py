"""After any seek, every order-flow view equals a forward replay to the same moment.

The forward side plays the real capture (book and trades) through ``ReplayCursor.advance_to``
and folds each batch of trades it delivers into 1-second groups as they arrive (batches split
seconds anywhere); its views are merged from those groups only. The seek side moves the cursor to
each moment in random order and asks the stored index for the views up to it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from flow_helpers import open_flow, trades_files

from replayterm.core.flow import OrderFlow, Sessions
from replayterm.core.flow.api import Table
from replayterm.core.flow.groups import US, Groups, concat, group_trades
from replayterm.core.flow.index import FlowIndex, TradeColumns
from replayterm.core.flow.merge import merge
from replayterm.core.replay.cursor import ReplayCursor

SEEKS = 1_000


class ForwardFlow(OrderFlow):
    """Views merged only from the groups accumulated while playing forward."""

    def __init__(self, grid: object, parts: list[Groups], ts: list[np.ndarray]) -> None:
        times = np.concatenate(ts) if ts else np.zeros(0, dtype=np.int64)
        empty = np.zeros(len(times))
        cols = TradeColumns(times, empty, empty, np.zeros(len(times), dtype=np.int8))
        super().__init__(FlowIndex(cols, grid, Groups.empty(), None))  # type: ignore[arg-type]
        self.rows = concat(parts)

    def merged(self, start, end, width_s, offset_s=0, row_ticks=1, with_cells=True, window_s=None):  # type: ignore[no-untyped-def]
        g = self.rows
        keep = (g.t_first >= start) & (g.t_last <= end)
        if window_s is not None:
            keep &= (g.key - offset_s) % width_s < window_s
        take = np.flatnonzero(keep)
        parts = {
            n: getattr(g, n)[take]
            for n in (
                "t_first",
                "t_last",
                "key",
                "row_lo",
                "n_trades",
                "open",
                "high",
                "low",
                "close",
                "buy",
                "sell",
                "other",
                "buy_n",
                "sell_n",
                "s1",
                "s2",
                "s2_hi",
                "dmax",
                "dmin",
                "cell_lo",
                "n_cells",
            )
        }
        sub = Groups(**parts, c_tick=g.c_tick, c_buy=g.c_buy, c_sell=g.c_sell, c_other=g.c_other, c_n=g.c_n)
        return merge(sub, (sub.key - offset_s) // width_s, row_ticks, with_cells)


def views(flow: OrderFlow, end: int | None) -> dict[str, object]:
    out: dict[str, object] = {}
    if flow.span is None:
        return out
    out["bars_1m"] = flow.bars("1m", None, end)
    out["bars_10s"] = flow.bars("10s", None, end)
    out["footprint"] = flow.footprint("1m", None, end, group_ticks=5)[1]
    out["cvd"] = flow.cvd("30s", None, end)
    out["vwap"] = flow.vwap("30s", None, end)
    out["profile"] = (flow.profile(None, end, group_ticks=2).table(), flow.profile(None, end, 2).summary())
    out["sessions"] = [
        (r.table(), r.summary(), naked) for r, naked in flow.session_profiles(Sessions(), None, end)
    ]
    return out


def same(a: object, b: object, where: str) -> None:
    if isinstance(a, Table):
        assert isinstance(b, Table)
        assert list(a.columns) == list(b.columns), where
        for name in a.columns:
            np.testing.assert_array_equal(a.columns[name], b.columns[name], err_msg=f"{where}: {name}")
    elif isinstance(a, tuple | list):
        assert isinstance(b, tuple | list), where
        assert len(a) == len(b), where
        for x, y in zip(a, b, strict=True):
            same(x, y, where)
    elif isinstance(a, dict):
        assert isinstance(b, dict), where
        assert a.keys() == b.keys(), where
        for k in a:
            if k in ("start_us", "end_us"):
                continue  # the forward side's range is the trades it saw, by definition
            same(a[k], b[k], f"{where}.{k}")
    else:
        assert a == b, where


@pytest.mark.parametrize(
    "seeks", [pytest.param(120, id="quick"), pytest.param(SEEKS, id="1000-seeks", marks=pytest.mark.slow)]
)
def test_views_after_random_seeks_equal_a_forward_replay(shared_data: Path, seeks: int) -> None:
    folder = shared_data / "binance-futures"
    files = trades_files(shared_data) + sorted(folder.glob("binance-futures_incremental_book_L2_*"))
    flow, instruments = open_flow(files)
    inst_index = next(i for i, inst in enumerate(instruments) if inst.trades is not None)
    trades = instruments[inst_index].trades
    lo, hi = flow.span
    rng = np.random.default_rng(18)
    moments = np.sort(rng.integers(lo - 5 * US, hi + 5 * US, seeks))
    # a few moments exactly on trades, on second boundaries and one µs either side of them
    exact = np.asarray(trades.local_ts[:: max(1, len(trades) // (seeks // 25))])
    moments = np.sort(
        np.concatenate([moments, exact, exact - 1, exact + 1, (exact // US) * US, (exact // US) * US - 1])
    )

    cursor = ReplayCursor(instruments)
    forward: dict[int, dict[str, object]] = {}
    parts: list[Groups] = []
    stamps: list[np.ndarray] = []
    fed = 0
    for t in moments.tolist():
        cursor.advance_to(t)
        now = cursor.trades_applied(inst_index)
        if now > fed:
            batch = trades.batch(fed, now)
            ts = np.asarray(batch.local_ts, dtype=np.int64)
            parts.append(
                group_trades(
                    ts,
                    flow.grid.ticks(batch.price),
                    flow.grid.lots(batch.amount),
                    batch.side,
                    ts // US,
                    flow.grid.ref_tick,
                    fed,
                )
            )
            stamps.append(ts)
            fed = now
        forward[t] = views(ForwardFlow(flow.grid, parts, stamps), None)

    order = rng.permutation(len(moments))
    for k in order.tolist():
        t = int(moments[k])
        cursor.seek(t)
        assert cursor.trades_applied(inst_index) == trades.count_through(t)
        if cursor.trades_applied(inst_index) == 0:
            assert forward[t] == {}
            continue
        same(views(flow, t), forward[t], f"seek to {t}")
    assert len(moments) >= seeks
