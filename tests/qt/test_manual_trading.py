"""Ladder clicks and market buttons become the manual strategy's clicks at the replay time; the
strategy then shows its orders and fills like any other (end to end through the worker)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from pytestqt.qtbot import QtBot

from replayterm.qt.main_window import MainWindow
from replayterm.qt.models.ladder_model import ASK_COL, BID_COL

REPO = Path(__file__).resolve().parents[2]
SAMPLE = sorted(str(p) for p in (REPO / "data").glob("*.csv.gz"))


def test_ladder_clicks_record_limit_cancel_and_move(qtbot: QtBot, settings: object) -> None:
    from qt_frames import BookWalk

    w = MainWindow(settings=settings)  # type: ignore[arg-type]
    qtbot.addWidget(w)
    w.show()
    walk = BookWalk(seed=4)
    for i in range(3):
        w.show_frame(walk.step(reset=i == 0))
    w.sink.flush()
    panel = w.manual
    sent: list[tuple[str, dict]] = []
    panel.add_strategy.connect(lambda name, params: sent.append((name, params)))
    levels = w.ladder.model.levels()
    bid_row = next(r for r, (_p, b, _a) in enumerate(levels) if b > 0)
    panel.ladder_click((bid_row, BID_COL), (bid_row, BID_COL))  # limit buy
    panel.ladder_click((bid_row, BID_COL), (bid_row, BID_COL))  # same cell again: cancel it
    ask_row = max(r for r, (_p, _b, a) in enumerate(levels) if a > 0)  # the best ask
    panel.ladder_click((ask_row, ASK_COL), (ask_row, ASK_COL))  # limit sell
    panel.ladder_click((ask_row, ASK_COL), (ask_row - 2, ASK_COL))  # drag it two rows up: move
    panel.tp.setValue(5.0)
    panel._market(1)
    actions = [c["action"] for c in panel.clicks]
    assert actions == ["limit", "cancel", "limit", "move", "market"]
    assert panel.clicks[0]["side"] == "buy"
    assert panel.clicks[0]["price"] == levels[bid_row][0]
    assert panel.clicks[1]["ref"] == 0
    assert panel.clicks[3] == {**panel.clicks[3], "ref": 2, "price": levels[ask_row - 2][0]}
    assert panel.clicks[4]["tp"] == 5.0
    assert all(c["t"] == w.manual.now for c in panel.clicks)
    assert sent[-1][0] == "manual"
    assert json.loads(sent[-1][1]["clicks"]) == panel.clicks
    panel.undo()
    assert len(panel.clicks) == 4


@pytest.mark.skipif(len(SAMPLE) < 2, reason="bundled sample missing")
def test_a_market_click_fills_in_the_manual_account(qtbot: QtBot, settings: object) -> None:
    from replayterm.qt.controller import ReplayController

    w = MainWindow(settings=settings)  # type: ignore[arg-type]
    qtbot.addWidget(w)
    w.show()
    controller = ReplayController(w)
    try:
        w.request_open(SAMPLE)
        qtbot.waitUntil(lambda: w.manual.now is not None, timeout=120_000)
        w.seek_requested.emit(w.manual.now + 30_000_000)  # type: ignore[operator]
        qtbot.waitUntil(lambda: w.manual.now is not None and w.manual.now > 0, timeout=60_000)
        w.manual.apply_frame(SimpleNamespace(local_ts=w.manual.now))  # type: ignore[arg-type]
        w.manual._market(1)
        qtbot.waitUntil(lambda: w.manual.handle_id is not None, timeout=60_000)
        w.transport.toggle_play()
        w.transport.set_speed(50.0)
        qtbot.waitUntil(
            lambda: any(i.name == "manual" and i.fills > 0 for i in w.strategies.store.infos()),
            timeout=60_000,
        )
        # the fill is drawn on the heatmap too (a triangle at its time and price)
        qtbot.waitUntil(lambda: len(w.heatmap_orders.ts) > 0, timeout=30_000)
        w.heatmap.grab()
    finally:
        w.close()
        controller.shutdown()
