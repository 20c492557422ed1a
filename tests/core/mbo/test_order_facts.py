"""Order facts: orders.csv / orders.jsonl from a backtest, ``explain``, and the reason sentences."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from replayterm.cli import main
from replayterm.core.execution.account import Account
from replayterm.core.execution.exchange import SimExchange
from replayterm.core.execution.latency import ConstantLatency
from replayterm.core.execution.orders import BUY, SELL, Order

DBN = "esh4-glbx-mdp3-20231225.mbo.dbn.zst"


class OneLevelBook:
    """A hand-made book: bid 100 x 2.4, ask 100.1 x 1."""

    def __init__(self) -> None:
        self.bid = (100.0, 2.4)
        self.ask = (100.1, 1.0)
        self.position = 0

    def best_bid(self) -> tuple[float, float] | None:
        return self.bid

    def best_ask(self) -> tuple[float, float] | None:
        return self.ask

    def levels(self, side: int, n: int):  # type: ignore[no-untyped-def]
        import numpy as np

        return np.array([self.bid if side > 0 else self.ask])

    def size_at(self, side: int, price: float) -> float:
        top = self.bid if side > 0 else self.ask
        return top[1] if abs(top[0] - price) < 1e-9 else 0.0


def _exchange() -> tuple[SimExchange, OneLevelBook]:
    book = OneLevelBook()
    return SimExchange(Account(), latency=ConstantLatency(1000, 0), book=book, tick_size=0.1), book


def test_the_sentences_say_why() -> None:
    ex, book = _exchange()
    filled = ex.submit(0, Order.limit(BUY, 1, 100.0))
    left = ex.submit(0, Order.limit(BUY, 1, 100.0))
    rejected = ex.submit(0, Order.limit(BUY, 1, 100.05))
    ex.advance(1000)
    ex.on_trade(3_101_000, -1, 100.0, 2.4 + 1.0)  # the 2.4 ahead trade out, then our first order
    facts = {f.order_id: f for f in ex.order_facts()}
    assert facts[filled].reason == "filled: the 2.4 ahead traded out in 3.1 s"
    assert facts[rejected].reason == "rejected: price 100.05 not on the 0.1 tick"
    # the second order was behind the same 2.4: after the trade 0 ahead by the trade rule... the
    # market then moves away: best bid up to 100.2, and the order is cancelled
    book.bid = (100.2, 5.0)
    book.ask = (100.3, 1.0)
    ex.on_book(3_200_000, book)
    ex.cancel(3_300_000, left)
    ex.advance(3_300_000 + 1000)
    assert facts[left].outcome == "not filled"
    assert facts[left].reason.startswith("not filled: the price left with ")
    assert facts[filled].ahead_at_arrival == 2.4
    assert facts[filled].time_in_queue_us == 3_100_000


def test_a_partial_fill_then_cancel_is_partly_filled() -> None:
    ex, _book = _exchange()
    oid = ex.submit(0, Order.limit(SELL, 2, 100.1))
    ex.advance(1000)
    ex.on_trade(2000, 1, 100.1, 1.5)  # 1 ahead, then 0.5 of ours
    ex.cancel(3000, oid)
    ex.advance(5000)
    (f,) = ex.order_facts()
    assert f.outcome == "partly filled"
    assert f.filled == 0.5
    assert f.reason.startswith("partly filled: 0.5 of 2 traded, then cancelled after")


def test_backtest_writes_order_facts_and_explain_tells_the_story(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shared_data / "mbo" / DBN
    if not path.exists():
        pytest.skip("Databento sample absent")
    out = tmp_path / "run"
    assert main(["backtest", str(path), "--strategy", "market_maker", "--out", str(out)]) == 0
    with (out / "orders.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert rows
    assert {"ahead_at_arrival", "ahead_at_end", "time_in_queue_us", "outcome", "reason"} <= set(rows[0])
    assert {r["queue_model"] for r in rows} == {"exact (FIFO)"}  # MBO data: the real queue
    filled = [r for r in rows if r["reason"].startswith("filled: the ")]
    assert filled
    assert all(r["outcome"] == "filled" for r in filled)
    lives = [json.loads(line) for line in (out / "orders.jsonl").read_text().splitlines()]
    assert len(lives) == len(rows)
    target = next(life for life in lives if life["fills"] and life["ahead_at_arrival"])
    capsys.readouterr()
    assert main(["explain", str(out), str(target["order_id"])]) == 0
    text = capsys.readouterr().out
    assert f"order {target['order_id']}" in text
    assert f"why       {target['reason']}" in text
    assert main(["explain", str(out), "999999"]) == 1
    assert "no order 999999" in capsys.readouterr().err
