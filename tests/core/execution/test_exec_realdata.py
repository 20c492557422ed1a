"""The exchange driven by the real book engine over a real capture, with a simple quoting loop."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pytest

from replayterm.core.book.events import BookEvents
from replayterm.core.book.replayer import BookReplayer
from replayterm.core.execution import (
    BUY,
    SELL,
    ConstantLatency,
    FeeSchedule,
    Fill,
    Liquidity,
    Order,
    PowerShare,
    ProbQueue,
    SimExchange,
    TimeInForce,
)
from replayterm.core.metrics import equity_curve, summarize

ENTRY_US, RESPONSE_US = 5_000, 2_000
DAY = "binance-futures/binance-futures_{}_2024-07-18_BTCUSDT.csv.gz"


def _read(path: Path, columns: list[str]) -> dict[str, np.ndarray]:
    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(include_columns=columns))
    return {c: table.column(c).to_numpy(zero_copy_only=False) for c in columns}


def _run(shared_data: Path) -> tuple[SimExchange, list, dict[int, int], np.ndarray, np.ndarray]:
    book_cols = _read(
        shared_data / DAY.format("incremental_book_L2"),
        ["local_timestamp", "timestamp", "is_snapshot", "side", "price", "amount"],
    )
    events = BookEvents.from_arrays(
        book_cols["local_timestamp"],
        book_cols["timestamp"],
        np.where(book_cols["side"] == "bid", 1, -1),
        book_cols["price"],
        book_cols["amount"],
        book_cols["is_snapshot"],
    )
    trades = _read(shared_data / DAY.format("trades"), ["local_timestamp", "side", "price", "amount"])
    t_ts = trades["local_timestamp"].astype(np.int64)
    t_side = np.where(trades["side"] == "buy", 1, -1)
    t_price, t_amount = trades["price"], trades["amount"]

    replayer = BookReplayer(events)
    book = replayer.book
    ex = SimExchange(
        latency=ConstantLatency(ENTRY_US, RESPONSE_US),
        fees=FeeSchedule.from_bps(-0.5, 4.0),
        queue=ProbQueue(PowerShare(2.0)),
    )
    delivered: list = []
    submitted_at: dict[int, int] = {}
    mid_ts: list[int] = []
    mid: list[float] = []
    ti = 0
    g = 0
    while not replayer.at_end:
        ts = int(replayer.next_ts)  # type: ignore[arg-type]
        while ti < t_ts.shape[0] and t_ts[ti] <= ts:  # trades first at equal times
            ex.advance(int(t_ts[ti]) - 1)
            ex.on_trade(int(t_ts[ti]), int(t_side[ti]), float(t_price[ti]), float(t_amount[ti]))
            delivered += ex.poll(int(t_ts[ti]))
            ti += 1
        ex.advance(ts - 1)
        replayer.step()
        ex.on_book(ts, book)
        delivered += ex.poll(ts)
        bid, ask = book.best_bid(), book.best_ask()
        if bid is None or ask is None:
            continue
        mid_ts.append(ts)
        mid.append(0.5 * (bid[0] + ask[0]))
        g += 1
        acct = ex.account
        if g % 400 == 0 and acct.position != 0.0:
            ex.cancel_all(ts)
            side = SELL if acct.position > 0 else BUY
            submitted_at[ex.submit(ts, Order.market(side, abs(acct.position)))] = ts
        elif g % 25 == 0 and not acct.open_orders():
            for side, price in ((BUY, bid[0]), (SELL, ask[0])):
                submitted_at[ex.submit(ts, Order.limit(side, 0.01, price, TimeInForce.POST_ONLY))] = ts
    end = int(replayer.ts) + 1_000_000  # type: ignore[arg-type]
    ex.advance(end)
    delivered += ex.poll(end)
    return ex, delivered, submitted_at, np.array(mid_ts), np.array(mid)


@pytest.mark.realdata
def test_quoting_loop_on_a_real_capture(shared_data: Path) -> None:
    ex, delivered, submitted_at, mid_ts, mid = _run(shared_data)
    fills = [e for e in delivered if isinstance(e, Fill)]
    makers = [f for f in fills if f.liquidity is Liquidity.MAKER]
    takers = [f for f in fills if f.liquidity is Liquidity.TAKER]
    assert makers
    assert takers
    for event in delivered:
        # Nothing happens at the exchange before the request could arrive, nothing is heard early.
        assert event.exch_ts >= submitted_at[event.order_id] + ENTRY_US
        assert event.local_ts == event.exch_ts + RESPONSE_US
    acct = ex.account
    assert acct.position == pytest.approx(sum(f.side * f.amount for f in fills))
    assert acct.fees_paid == pytest.approx(sum(f.fee for f in fills))
    # The account's running equity agrees with the metrics recomputed from its fills.
    curve = equity_curve(acct.fill_table("local"), mid_ts[-1:], mid[-1:])
    assert curve[0] == pytest.approx(acct.equity(float(mid[-1])))
    summary = summarize(acct.fill_table(), mid_ts, mid)
    json.dumps(summary, allow_nan=False)
    assert summary["fills"] == len(fills)
    assert summary["net_pnl"] == pytest.approx(acct.net_pnl(float(mid[-1])))


@pytest.mark.realdata
def test_real_capture_run_is_deterministic(shared_data: Path) -> None:
    first = _run(shared_data)[1]
    second = _run(shared_data)[1]
    assert first == second
