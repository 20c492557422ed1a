"""Exact queue position on MBO data, and the calibration of L2 models against it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from replayterm.core.data.open import open_sources
from replayterm.core.execution.account import Account
from replayterm.core.execution.calibrate import calibrate, default_models
from replayterm.core.execution.exact_queue import ExactQueue
from replayterm.core.execution.exchange import SimExchange
from replayterm.core.execution.latency import ConstantLatency
from replayterm.core.execution.orders import BUY, Order
from replayterm.core.replay.instruments import build_instruments

DBN = "esh4-glbx-mdp3-20231225.mbo.dbn.zst"
LOBSTER = "AAPL_2012-06-21_34200000_57600000_message_10.csv"


def _instrument(shared_data: Path, name: str):  # type: ignore[no-untyped-def]
    path = shared_data / "mbo" / name
    if not path.exists():
        pytest.skip(f"{name} absent")
    (inst,) = build_instruments(open_sources([path]))
    return inst


def test_a_resting_order_advances_exactly_as_the_orders_ahead_leave(shared_data: Path) -> None:
    inst = _instrument(shared_data, DBN)
    replayer = inst.book
    groups = replayer.events.groups[0]
    ex = SimExchange(
        Account(),
        latency=ConstantLatency(0, 0),
        book=replayer.book,
        exact=ExactQueue(inst.orders.book(), groups),
    )
    start = int(replayer.events.groups_through(int(replayer.events.group_ts[0]) + 3_700 * 1_000_000))
    replayer.seek_group(start)
    ts = int(replayer.events.group_ts[start - 1])
    bid = replayer.book.best_bid()
    assert bid is not None
    oid = ex.submit(ts, Order.limit(BUY, 1, bid[0]))
    ex.advance(ts)
    (queue,) = ex.queue_positions().values()
    assert queue[0] == bid[1]  # behind everything resting at the bid when it arrives
    # The independent view: the sizes of the orders resting at arrival, followed by order id
    # through the L3 book's own records (what remains of each of them is what is ahead).
    l3 = inst.orders.book()
    l3.at_l2_rows(int(groups[start]))
    level = l3.level_of(1, bid[0])
    st = l3.state
    members = []
    o = int(st["l_head"][level])
    while o >= 0:
        members.append(o)
        o = int(st["o_next"][o])
    aheads = []
    for g in range(start, min(start + 3000, replayer.n_groups)):
        replayer.step()
        ex.on_book(int(replayer.events.group_ts[g]), replayer.book)
        if oid not in ex.queue_positions():
            break
        l3.at_l2_rows(int(groups[g + 1]))
        # orders of the arrival queue still at the level with their priority kept
        expected = sum(
            int(st["o_size"][m])
            for m in members
            if st["o_level"][m] == level and st["o_prio"][m] < ex._resting[oid].mark
        )
        assert ex.queue_positions()[oid][0] == expected
        aheads.append(expected)
    assert len(aheads) > 10
    assert np.all(np.diff(aheads) <= 0)  # the queue ahead never grows
    assert aheads[-1] < aheads[0]


def test_queue_calibration_reports_every_model_on_both_samples(shared_data: Path) -> None:
    for name in (LOBSTER,):
        inst = _instrument(shared_data, name)
        report = calibrate(inst, default_models(), every_s=2.0, horizon_s=10.0)
        assert report["orders"] > 20
        assert {m["model"] for m in report["models"]} == set(default_models())
        for m in report["models"]:
            assert 0.0 <= m["ahead_error_median"] <= m["ahead_error_p90"] <= 1.0
            assert -1.0 <= m["fill_rate_error"] <= 1.0
            assert m["samples"] > 0
        # The risk-averse model never moves forward on cancels: never more optimistic than the truth
        # about the queue ahead by more than float noise, whereas proportional models are.
        by = {m["model"]: m for m in report["models"]}
        assert by["risk-averse"]["ahead_bias_mean"] >= -1e-9
        assert by["prob power 1"]["ahead_bias_mean"] < by["risk-averse"]["ahead_bias_mean"]
