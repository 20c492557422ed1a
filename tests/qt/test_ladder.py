from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from pytestqt.qtbot import QtBot
from qt_frames import levels, make_frame, trades

from replayterm.qt.models.ladder_model import (
    BEST_ASK,
    BEST_BID,
    FLAGS_ROLE,
    LAST_SELL,
    LAST_TRADE,
    PRICE_COL,
    LadderModel,
)
from replayterm.qt.views.ladder_view import LadderView

BIDS = levels([100.0, 99.5, 98.5, 97.0], [1.0, 2.0, 3.0, 4.0])
ASKS = levels([100.5, 101.0, 102.5], [5.0, 6.0, 7.0])


def _shown(model: LadderModel) -> dict[float, tuple[float, float]]:
    return {p: (b, a) for p, b, a in model.levels() if b or a}


def test_ladder_shows_exactly_the_levels_of_the_frame(qtbot: QtBot) -> None:
    model = LadderModel(rows=21)
    model.apply_frame(make_frame(BIDS, ASKS, tick=0.5, reset=True))
    assert _shown(model) == {
        100.0: (1.0, 0.0),
        99.5: (2.0, 0.0),
        98.5: (3.0, 0.0),
        97.0: (4.0, 0.0),
        100.5: (0.0, 5.0),
        101.0: (0.0, 6.0),
        102.5: (0.0, 7.0),
    }
    prices = [p for p, _, _ in model.levels()]
    assert prices == sorted(prices, reverse=True)
    assert np.allclose(np.diff(prices), -0.5)
    # the touch sits in the middle: best bid on the middle row, best ask right above it
    assert prices[10] == 100.0
    assert prices[9] == 100.5
    flags = [model.index(r, PRICE_COL).data(FLAGS_ROLE) for r in range(21)]
    assert flags[10] & BEST_BID
    assert flags[9] & BEST_ASK


def test_grouping_floors_bids_and_ceils_asks() -> None:
    model = LadderModel(rows=11)
    bids = levels([100.0, 99.5, 99.0, 98.5, 97.5], [1.0, 2.0, 3.0, 4.0, 5.0])
    asks = levels([100.5, 101.0, 101.5, 103.0], [1.0, 2.0, 3.0, 4.0])
    model.set_grouping(2)  # buckets of 2 ticks = 1.0
    model.apply_frame(make_frame(bids, asks, tick=0.5))
    assert _shown(model) == {
        100.0: (1.0, 0.0),
        99.0: (5.0, 0.0),  # 99.5 and 99.0 floor into 99
        98.0: (4.0, 0.0),
        97.0: (5.0, 0.0),
        101.0: (0.0, 3.0),  # 100.5 and 101.0 ceil into 101
        102.0: (0.0, 3.0),
        103.0: (0.0, 4.0),
    }
    assert sum(b for _, b, _ in model.levels()) == pytest.approx(15.0)
    assert sum(a for _, _, a in model.levels()) == pytest.approx(10.0)


def test_grouping_of_ten_ticks() -> None:
    model = LadderModel(rows=9)
    model.set_grouping(10)
    rng = np.random.default_rng(3)
    bid_px = 1000.0 - 0.1 * np.arange(120)
    ask_px = 1000.1 + 0.1 * np.arange(120)
    bid_sz, ask_sz = rng.random(120), rng.random(120)
    model.apply_frame(make_frame(levels(bid_px, bid_sz), levels(ask_px, ask_sz), tick=0.1))
    shown = {p: (b, a) for p, b, a in model.levels()}
    bid_bucket = np.floor(np.rint(bid_px / 0.1) / 10)
    ask_bucket = -np.floor(-np.rint(ask_px / 0.1) / 10)
    assert len(shown) == 9
    for price, (b, a) in shown.items():
        assert b == pytest.approx(bid_sz[bid_bucket == round(price)].sum()), price
        assert a == pytest.approx(ask_sz[ask_bucket == round(price)].sum()), price


def test_exactly_one_data_changed_per_frame_and_no_resets(qtbot: QtBot) -> None:
    model = LadderModel(rows=31)
    changed, resets, inserts = [], [], []
    model.dataChanged.connect(lambda *a: changed.append(a))
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsInserted.connect(lambda *a: inserts.append(1))
    for i in range(20):
        bids = levels([100.0 - 0.5 * (i % 3), 99.0], [1.0 + i, 2.0])
        asks = levels([100.5 + 0.5 * (i % 2), 101.5], [3.0, 4.0 + i])
        model.apply_frame(make_frame(bids, asks, tick=0.5, reset=i == 0))
        assert len(changed) == i + 1
    top_left, bottom_right = changed[-1][0], changed[-1][1]
    assert (top_left.row(), top_left.column()) == (0, 0)
    assert (bottom_right.row(), bottom_right.column()) == (30, 2)
    assert resets == []
    assert inserts == []
    assert model.rowCount() == 31
    # an identical frame changes nothing visible: no signal at all
    model.apply_frame(make_frame(bids, asks, tick=0.5))
    assert len(changed) == 20


def test_last_trade_highlight_and_lock_with_wheel(qtbot: QtBot) -> None:
    view = LadderView()
    qtbot.addWidget(view)
    view.resize(300, 500)
    view.show()
    qtbot.waitExposed(view)
    model = view.model
    rows = model.rowCount()
    assert rows % 2 == 1
    assert rows >= 15
    sell = trades([1, 2], [100.5, 99.5], [1.0, 2.0], [1, -1])
    model.apply_frame(make_frame(BIDS, ASKS, tick=0.5, trade_batch=sell))
    row = model.row_of_price(99.5)
    assert row is not None
    flags = model.index(row, PRICE_COL).data(FLAGS_ROLE)
    assert flags & LAST_TRADE
    assert flags & LAST_SELL
    top_before = model.levels()[0][0]
    assert view.act_auto_center.isChecked()
    wheel = QWheelEvent(
        QPointF(50, 50),
        QPointF(view.table.mapToGlobal(QPoint(50, 50))),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    view.table.wheelEvent(wheel)
    assert not view.act_auto_center.isChecked()  # scrolling locks the ladder
    assert model.levels()[0][0] == pytest.approx(top_before + 3 * 0.5)
    # locked: a new frame with a moved market does not recenter
    shift = np.array([5.0, 0.0])  # prices up by 5, sizes unchanged
    moved = make_frame(BIDS + shift, ASKS + shift, tick=0.5)
    model.apply_frame(moved)
    assert model.levels()[0][0] == pytest.approx(top_before + 1.5)
    view.act_auto_center.trigger()
    assert model.auto_center
    assert model.levels()[rows // 2][0] == pytest.approx(105.0)


def test_grouping_combo_and_settings_round_trip(qtbot: QtBot, settings) -> None:  # type: ignore[no-untyped-def]
    view = LadderView()
    qtbot.addWidget(view)
    view.act_coarser.trigger()
    view.act_coarser.trigger()
    assert view.model.grouping == 5
    view.act_auto_center.setChecked(False)
    view.save_settings(settings)
    other = LadderView()
    qtbot.addWidget(other)
    other.load_settings(settings)
    assert other.model.grouping == 5
    assert not other.model.auto_center


def test_market_by_order_frames_show_order_counts_and_the_queue(qtbot: QtBot) -> None:
    from replayterm.core.frames.frame import OrderLevels

    bids, asks = levels([100.0, 99.5], [6.0, 2.0]), levels([100.5], [5.0])
    frame = make_frame(bids, asks, tick=0.5, reset=True)
    sizes = np.zeros((2, 16), np.int64)
    sizes[0, :3] = (1, 2, 3)
    sizes[1, :1] = 2
    ask_sizes = np.zeros((1, 16), np.int64)
    ask_sizes[0, :2] = (4, 1)
    frame.orders = OrderLevels(np.array([3, 1]), sizes, np.array([2]), ask_sizes)
    model = LadderModel(rows=21)
    model.apply_frame(frame)
    row = next(r for r in range(21) if model.index(r, PRICE_COL).data() == "100.0")
    assert model.index(row, 0).data().endswith("·3")  # 6 in 3 orders
    tip = model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == "3 orders, front of the queue first: 1, 2, 3"
    assert (
        model.index(row - 1, 2).data(Qt.ItemDataRole.ToolTipRole)
        == "2 orders, front of the queue first: 4, 1"
    )


def test_sizes_show_at_the_instruments_size_precision(qtbot: QtBot) -> None:
    """46.372 is not "46.37" when the instrument trades in 0.001 (issue 19, item 6)."""
    from replayterm.qt.models.ladder_model import ASK_COL, BID_COL

    bids = levels([100.0, 99.5, 99.0], [46.372, 0.005, 1234.5])
    asks = levels([100.5, 101.0], [2.0, 10.25])
    frame = make_frame(bids, asks, tick=0.5, reset=True)
    frame.size_decimals = 3
    model = LadderModel(rows=21)
    model.apply_frame(frame)
    texts = {model.index(r, BID_COL).data() for r in range(21)} | {
        model.index(r, ASK_COL).data() for r in range(21)
    }
    assert {"46.372", "0.005", "1,234.500", "2.000", "10.250"} <= texts


def test_the_instruments_size_precision_comes_from_its_data() -> None:
    from replayterm.core.replay.instruments import size_decimals

    assert size_decimals(np.array([46.372, 0.005, 1.0, 12.25])) == 3
    assert size_decimals(np.array([1.0, 20.0, 300.0])) == 0
    assert size_decimals(np.array([0.1 + 0.2, 0.5])) == 1  # 0.30000000000000004 is 0.3
    assert size_decimals(np.array([], dtype=np.float64)) == -1


def test_every_book_figure_names_its_depth(qtbot: QtBot) -> None:
    from replayterm.core.book.book import STATS_DEPTH
    from replayterm.qt.views.book_panel import BookPanel
    from replayterm.qt.views.charts import ChartsView

    panel = BookPanel()
    qtbot.addWidget(panel)
    titles = {key: title for key, title in panel.FIELDS}
    assert f"top {STATS_DEPTH}" in titles["imbalance"]
    assert "touch" in titles["spread"]
    assert f"top {STATS_DEPTH} levels" in panel.TOOLTIPS["imbalance"]
    charts = ChartsView()
    qtbot.addWidget(charts)
    assert f"top {STATS_DEPTH}" in charts.imb_plot.getAxis("right").labelText
