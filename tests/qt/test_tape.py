from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot
from qt_frames import T0, make_frame, trades

from replayterm.core.replay.frame import TradeBatch
from replayterm.qt.models.tape_model import COUNT_COL, PRICE_COL, SIZE_COL, TIME_COL, TapeModel
from replayterm.qt.views.tape_view import TapeView


def _rows(model: TapeModel) -> list[tuple[int, float, float, int, int]]:
    r = model.rows()
    return list(
        zip(r.ts.tolist(), r.price.tolist(), r.size.tolist(), r.side.tolist(), r.count.tolist(), strict=True)
    )


def _frame(batch, reset: bool = False):  # type: ignore[no-untyped-def]
    return make_frame(trade_batch=batch, reset=reset, tick=0.5)


def test_same_timestamp_side_and_price_aggregate_into_one_row() -> None:
    model = TapeModel(merge_orders=False)  # print by print: only equal (time, side, price) merge
    batch = trades(
        [T0, T0, T0, T0, T0 + 5, T0 + 5],
        [100.0, 100.0, 100.5, 100.0, 99.5, 99.5],
        [1.0, 2.0, 4.0, 8.0, 0.5, 0.25],
        [1, 1, 1, -1, -1, -1],
    )
    model.apply_frame(_frame(batch, reset=True))
    assert _rows(model) == [
        (T0 + 5, 99.5, 0.75, -1, 2),  # newest on top
        (T0, 100.5, 4.0, 1, 1),  # buys at one instant, in execution order (price up)
        (T0, 100.0, 3.0, 1, 2),
        (T0, 100.0, 8.0, -1, 1),  # same price, other side: its own row
    ]


def test_min_size_filter_applies_to_aggregated_size() -> None:
    model = TapeModel()
    model.set_min_size(2.5)
    batch = trades([T0, T0, T0 + 1, T0 + 2], [100.0, 100.0, 100.0, 100.0], [1.0, 2.0, 2.0, 5.0], [1, 1, 1, 1])
    model.apply_frame(_frame(batch, reset=True))
    assert [(r[0], r[2]) for r in _rows(model)] == [(T0 + 2, 5.0), (T0, 3.0)]
    model.set_min_size(0.0)
    assert [(r[0], r[2]) for r in _rows(model)] == [(T0 + 2, 5.0), (T0 + 1, 2.0), (T0, 3.0)]
    model.set_min_size(4.0)
    model.apply_frame(_frame(trades([T0 + 3, T0 + 4], [1.0, 1.0], [4.5, 1.0], [-1, -1])))
    assert [(r[0], r[2]) for r in _rows(model)] == [(T0 + 3, 4.5), (T0 + 2, 5.0)]


def test_one_batched_insert_per_frame_and_cap() -> None:
    model = TapeModel(cap=7)
    inserted, removed, resets = [], [], []
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((first, last)))
    model.rowsRemoved.connect(lambda parent, first, last: removed.append((first, last)))
    model.modelReset.connect(lambda: resets.append(1))
    model.apply_frame(_frame(trades([], [], [], []), reset=True))
    ts = T0
    for _ in range(4):
        batch = trades([ts, ts + 1, ts + 2], [100.0, 100.5, 101.0], [1.0, 1.0, 1.0], [1, -1, 1])
        model.apply_frame(_frame(batch))
        ts += 3
    assert inserted == [(0, 2)] * 4
    assert removed == [(4, 5), (4, 6)]  # oldest rows leave from the bottom
    assert len(resets) == 1
    assert model.rowCount() == 7
    assert [r[0] for r in _rows(model)] == list(range(ts - 1, ts - 8, -1))


def test_reset_frame_replaces_everything() -> None:
    model = TapeModel()
    model.apply_frame(_frame(trades([T0, T0 + 1], [1.0, 1.0], [1.0, 1.0], [1, 1]), reset=True))
    model.apply_frame(_frame(trades([T0 + 9], [2.0], [3.0], [-1]), reset=True))
    assert _rows(model) == [(T0 + 9, 2.0, 3.0, -1, 1)]
    model.apply_frame(_frame(trades([], [], [], []), reset=True))
    assert model.rowCount() == 0


def test_a_print_group_split_across_frames_stays_one_row() -> None:
    model = TapeModel()
    model.apply_frame(_frame(trades([T0], [100.0], [1.0], [1]), reset=True))
    model.apply_frame(_frame(trades([T0, T0 + 1], [100.0, 100.0], [2.0, 1.0], [1, 1])))
    assert _rows(model) == [(T0 + 1, 100.0, 1.0, 1, 1), (T0, 100.0, 3.0, 1, 2)]


def test_rows_being_read_stay_put_while_hovered(qtbot: QtBot) -> None:
    view = TapeView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    bar = view.table.verticalScrollBar()
    ts = T0

    def push(n: int) -> None:
        nonlocal ts
        batch = trades(list(range(ts, ts + n)), [100.0] * n, [1.0] * n, [1] * n)
        view.apply_frame(_frame(batch, reset=ts == T0))
        ts += n

    push(60)
    assert bar.value() == 0
    push(5)
    assert bar.value() == 0  # live: newest stays visible
    view.table.hovered = True
    top_row = view.table.rowAt(0)
    first_visible_ts = int(view.model.rows().ts[top_row])
    push(7)
    qtbot.wait(1)
    assert int(view.model.rows().ts[view.table.rowAt(0)]) == first_visible_ts
    assert bar.value() == 7
    assert view.to_top.isVisibleTo(view)
    view.table.hovered = False
    view.leave_hold_if_untouched()
    assert bar.value() == 0


def _sweep(t: int, exch: int, prices: list[float], side: int) -> TradeBatch:
    """One taker order: one exchange time, consecutive receive stamps, one print per level."""
    n = len(prices)
    return TradeBatch(
        local_ts=np.arange(t, t + n, dtype=np.int64),
        exch_ts=np.full(n, exch, dtype=np.int64),
        price=np.asarray(prices, dtype=np.float64),
        amount=np.full(n, 0.5),
        side=np.full(n, side, dtype=np.int8),
    )


def test_the_prints_of_one_taker_order_are_one_row_that_expands() -> None:
    """A sweep at one exchange time with consecutive-us receive stamps was 6-10 rows (issue 19,
    item 8): it is one row (total size, last price, count), expandable into its levels."""
    model = TapeModel()
    sweep = _sweep(T0, T0 - 1500, [100.0, 100.0, 100.5, 101.0, 101.0, 101.5], 1)
    other = _sweep(T0 + 10, T0 - 1400, [101.0], -1)  # another order: its own row
    batch = TradeBatch(*(np.concatenate([getattr(sweep, k), getattr(other, k)]) for k in
                         ("local_ts", "exch_ts", "price", "amount", "side")))  # fmt: skip
    model.apply_frame(_frame(batch, reset=True))
    assert _rows(model) == [(T0 + 10, 101.0, 0.5, -1, 1), (T0, 101.5, 3.0, 1, 6)]
    assert model.row_texts(1)[1][COUNT_COL].startswith("6")
    model.toggle_expanded(1)
    assert model.rowCount() == 6  # the row and its four price levels
    levels = [model.row_texts(r)[1] for r in range(2, 6)]
    assert [t[PRICE_COL] for t in levels] == ["100.0", "100.5", "101.0", "101.5"]
    assert [t[SIZE_COL] for t in levels] == ["1.000", "0.500", "1.000", "0.500"]
    assert model.is_detail(2)
    model.toggle_expanded(1)
    assert model.rowCount() == 2
    # the next frame continues the same order (same exchange time and side): still one row
    model.apply_frame(_frame(_sweep(T0 + 20, T0 - 1400, [100.5, 100.0], -1)))
    assert _rows(model)[0] == (T0 + 10, 100.0, 1.5, -1, 3)


def test_the_tape_shows_exchange_or_receive_time() -> None:
    from replayterm.qt.timefmt import format_time_of_day

    model = TapeModel()
    model.apply_frame(_frame(_sweep(T0, T0 - 1500, [100.0], 1), reset=True))
    assert model.row_texts(0)[1][TIME_COL] == format_time_of_day(T0)
    assert "receive" in str(model.headerData(TIME_COL, Qt.Orientation.Horizontal)).lower()
    model.set_time_axis("exchange")
    assert model.row_texts(0)[1][TIME_COL] == format_time_of_day(T0 - 1500)
    assert "exch" in str(model.headerData(TIME_COL, Qt.Orientation.Horizontal)).lower()


def test_a_click_expands_a_merged_row_and_the_time_button_switches_the_clock(qtbot: QtBot) -> None:
    view = TapeView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    view.apply_frame(_frame(_sweep(T0, T0 - 1500, [100.0, 100.5, 101.0], 1), reset=True))
    assert view.model.rowCount() == 1
    y = view.table.rowViewportPosition(0) + 3
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(20, y))
    assert view.model.rowCount() == 4
    view.exch_time.click()
    assert view.model.time_axis == "exchange"
