from __future__ import annotations

import numpy as np
import pytest
from pytestqt.qtbot import QtBot
from qt_frames import T0, BookWalk, levels, make_frame, series, trades

from replayterm.qt.views.charts import ChartsView
from replayterm.qt.views.heatmap import HeatmapView


@pytest.fixture
def charts(qtbot: QtBot) -> ChartsView:
    view = ChartsView()
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_chart_curves_receive_the_series_and_trades(charts: ChartsView) -> None:
    ts = [T0 + i * 100_000 for i in range(50)]
    bid = [100.0 + 0.5 * (i % 4) for i in range(50)]
    ask = [b + 0.5 for b in bid]
    imb = [0.5 if i % 2 else -0.25 for i in range(50)]
    f1 = make_frame(ts=ts[24], reset=True, top=series(ts[:25], bid[:25], ask[:25], imb[:25]))
    f2 = make_frame(
        ts=ts[49],
        top=series(ts[25:], bid[25:], ask[25:], imb[25:]),
        trade_batch=trades([ts[30], ts[40]], [101.0, 100.0], [2.0, 5.0], [1, -1]),
    )
    charts.apply_frame(f1)
    charts.apply_frame(f2)
    assert charts.series.column("t").tolist() == pytest.approx([t / 1e6 for t in ts])
    x, y = charts.bid_curve.getData()
    # hold-forward steps over exactly the buffered samples, up to the cursor
    assert np.unique(y).tolist() == sorted(set(bid))
    assert x[0] == pytest.approx(ts[0] / 1e6)
    assert x[-1] == pytest.approx(ts[-1] / 1e6)
    _, ya = charts.ask_curve.getData()
    _, ym = charts.mid_curve.getData()
    assert ya - y == pytest.approx(np.full_like(y, 0.5))
    assert ym == pytest.approx((y + ya) / 2)
    _, dy = charts.dots.data()
    assert sorted(dy.tolist()) == [100.0, 101.0]
    assert len(charts.dots) == 2
    assert charts.cursors[0].value() == pytest.approx(ts[49] / 1e6)


def test_follow_mode_tracks_the_cursor_until_the_user_pans(charts: ChartsView) -> None:
    walk = BookWalk(seed=1)
    for i in range(30):
        charts.apply_frame(walk.step(dt_us=500_000, reset=i == 0))
    (x0, x1), _ = charts.price_plot.getViewBox().viewRange()
    now = walk.ts / 1e6
    assert x1 == pytest.approx(now + 60 * 0.04, abs=0.01)
    assert x0 == pytest.approx(now - 60, abs=0.01)
    vb = charts.price_plot.getViewBox()
    vb.translateBy(x=-5.0)
    vb.sigRangeChangedManually.emit(vb.state["mouseEnabled"])  # what a mouse drag emits
    assert not charts.act_follow.isChecked()
    charts.apply_frame(walk.step(dt_us=500_000))
    (y0, _), _ = vb.viewRange()
    assert y0 == pytest.approx(x0 - 5.0, abs=0.01)  # the view stays where the user put it
    charts.act_follow.trigger()
    (z0, _), _ = vb.viewRange()
    assert z0 == pytest.approx(walk.ts / 1e6 - 60, abs=0.01)


def test_hidden_chart_keeps_the_data_and_draws_it_when_shown(qtbot: QtBot) -> None:
    view = ChartsView()
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.apply_frame(make_frame(reset=True, ts=T0, top=series([T0], [1.0], [2.0], [0.0])))
    view.apply_frame(make_frame(ts=T0 + 10, top=series([T0 + 10], [5.0], [6.0], [0.0])))
    assert len(view.series) == 2
    assert len(view.bid_curve.getData()[0]) == 0  # nothing drawn while hidden
    view.show()
    qtbot.waitExposed(view)
    _, y = view.bid_curve.getData()
    assert y.tolist()[-1] == 5.0


def test_chart_heights_fit_the_data_until_the_user_sets_them(charts: ChartsView) -> None:
    walk = BookWalk(seed=3)
    for i in range(20):
        charts.apply_frame(walk.step(dt_us=500_000, reset=i == 0))
    price_vb, spread_vb = charts.price_plot.getViewBox(), charts.spread_plot.getViewBox()
    _, bid = charts.bid_curve.getData()
    _, ask = charts.ask_curve.getData()
    (y0, y1) = price_vb.viewRange()[1]
    assert y0 <= np.nanmin(bid)
    assert np.nanmax(ask) <= y1
    assert (y1 - y0) <= (np.nanmax(ask) - np.nanmin(bid)) * 1.5  # fitted, not just containing
    spread_vb.scaleBy((1.0, 3.0))
    spread_vb.sigRangeChangedManually.emit(spread_vb.state["mouseEnabled"])  # a wheel zoom there
    zoomed = spread_vb.viewRange()[1]
    assert not charts.act_follow.isChecked()
    charts.apply_frame(walk.step(dt_us=500_000))
    assert charts.price_plot in charts._fitting  # the other plot still fits its data
    assert spread_vb.viewRange()[1] == pytest.approx(zoomed)  # ...this one keeps what the user set
    charts.act_follow.trigger()  # F: follow again, and fit both heights again
    assert spread_vb.viewRange()[1] != pytest.approx(zoomed)


def test_chart_reset_drops_history(charts: ChartsView) -> None:
    charts.apply_frame(make_frame(reset=True, top=series([T0], [1.0], [2.0], [0.0])))
    charts.apply_frame(make_frame(reset=True, ts=T0 + 10, top=series([T0 + 10], [5.0], [6.0], [0.0])))
    assert len(charts.series) == 1
    assert charts.series.column("bid").tolist() == [5.0]


def test_chart_double_click_seeks(charts: ChartsView, qtbot: QtBot) -> None:
    charts.apply_frame(
        make_frame(reset=True, top=series([T0, T0 + 10_000_000], [1.0, 1.0], [2.0, 2.0], [0, 0]))
    )
    vb = charts.price_plot.getViewBox()

    class Click:
        def double(self) -> bool:
            return True

        def scenePos(self):  # type: ignore[no-untyped-def]
            return vb.mapViewToScene(vb.viewRect().center())

    with qtbot.waitSignal(charts.seek_requested) as blocker:
        charts._on_scene_click(Click())
    assert blocker.args[0] == pytest.approx(vb.viewRect().center().x() * 1e6, abs=1)


@pytest.fixture
def heatmap(qtbot: QtBot) -> HeatmapView:
    view = HeatmapView(columns=50, rows=40, column_us=1)  # a column per µs: one per frame here
    qtbot.addWidget(view)
    view.resize(600, 300)
    return view


def test_heatmap_writes_one_column_per_time_slice(heatmap: HeatmapView) -> None:
    bids = levels([100.0, 99.5, 99.0], [1.0, 3.0, 7.0])
    asks = levels([100.5, 101.0], [2.0, 5.0])
    heatmap.apply_frame(make_frame(bids, asks, ts=T0, tick=0.5, reset=True))
    assert heatmap.columns_written == 1
    before = heatmap.pixels.copy()
    heatmap.apply_frame(make_frame(bids, asks, ts=T0 + 1, tick=0.5))
    assert heatmap.columns_written == 2
    changed_cols = np.flatnonzero(np.any(heatmap.pixels != before, axis=0))
    assert changed_cols.tolist() == [1]  # only the new column was written
    col = heatmap.column(0)
    lo, _ = heatmap.price_window()
    rows = {round(p, 6): r for r, p in enumerate(lo + 0.5 * np.arange(heatmap.rows))}
    expected = np.zeros(heatmap.rows, dtype=np.float32)
    for p, s in [*bids.tolist(), *asks.tolist()]:
        expected[rows[round(p, 6)]] = np.log1p(s)
    assert col == pytest.approx(expected)
    # no clock movement, no column
    heatmap.apply_frame(make_frame(bids, asks, ts=T0 + 1, tick=0.5))
    assert heatmap.columns_written == 2


def test_heatmap_ring_wraps_and_recenters(heatmap: HeatmapView) -> None:
    for i in range(120):
        mid = 100.0 + 0.5 * (i // 10)
        f = make_frame(levels([mid - 0.25], [1.0]), levels([mid + 0.25], [1.0]), ts=T0 + i, tick=0.5)
        heatmap.apply_frame(f)
    assert heatmap.filled == heatmap.columns
    assert heatmap.head == 120 % heatmap.columns
    assert heatmap.recenters >= 1
    lo, hi = heatmap.price_window()
    assert lo < 105.5 < hi
    newest = heatmap.column(0)
    assert np.count_nonzero(newest) == 2
    heatmap.apply_frame(make_frame(levels([1.0], [1.0]), ts=T0 + 999, tick=0.5, reset=True))
    assert heatmap.filled == 1


def test_heatmap_history_keeps_its_prices_across_recenters(qtbot: QtBot) -> None:
    view = HeatmapView(columns=30, rows=60, view_rows=20, column_us=1)
    qtbot.addWidget(view)
    tick = 1.0

    def book(mid: float):  # type: ignore[no-untyped-def]
        return levels([mid - 0.5], [9.0]), levels([mid + 0.5], [4.0])

    view.apply_frame(make_frame(*book(1000.5), ts=T0, tick=tick, reset=True))
    view_lo, _ = view.view_window()
    steps = 12  # 24 rows up: the buffer (60 rows) recenters once, the view (20 rows) several times
    for i in range(1, steps + 1):
        view.apply_frame(make_frame(*book(1000.5 + 2 * i), ts=T0 + i, tick=tick))
    assert view.recenters == 1
    assert view.view_window()[0] > view_lo + 10
    lo, _ = view.price_window()
    assert lo > 1000.0 - 30  # the buffer moved up...
    for age in range(steps + 1):  # ...and every column, the first one too, kept its own prices
        mid = 1000.5 + 2 * (steps - age)
        prices = sorted(lo + np.flatnonzero(view.column(age)) * tick)
        assert prices == [mid - 0.5, mid + 0.5], age


def test_heatmap_readout_names_time_price_and_size(heatmap: HeatmapView) -> None:
    heatmap.apply_frame(make_frame(levels([100.0], [3.5]), levels([100.5], [2.0]), ts=T0 + 1234, tick=0.5))
    x = heatmap.columns - 0.5  # the newest column sits at the right edge
    assert heatmap.readout_at(x, 100.0) == "12:00:00.001  100.0  size 3.500"
    assert heatmap.readout_at(x, 100.5).endswith("size 2.000")
    assert heatmap.readout_at(x, 101.0).endswith("size 0.000")
    assert heatmap.readout_at(-5, 100.0) == ""


def test_heatmap_time_labels_follow_the_columns_once_the_ring_is_full(qtbot: QtBot) -> None:
    view = HeatmapView(columns=40, rows=40, column_us=1_000_000)
    qtbot.addWidget(view)
    view.resize(600, 300)
    view.show()
    qtbot.waitExposed(view)
    book = levels([100.0], [1.0]), levels([100.5], [1.0])
    for i in range(60):  # full ring: the x range no longer changes
        view.apply_frame(make_frame(*book, ts=T0 + i * 1_000_000, tick=0.5))
    view.plot.grab()  # lay the axis out
    axis = view.time_axis
    assert axis.picture is not None
    shown = dict(axis._labels)
    assert shown
    assert all(text == view.column_label(v) for v, text in shown.items())
    view.apply_frame(make_frame(*book, ts=T0 + 60 * 1_000_000, tick=0.5))
    assert axis.picture is None  # every column moved one place left: the labels are redrawn
    view.plot.grab()
    assert all(text == view.column_label(v) for v, text in axis._labels.items())


def test_heatmap_columns_sit_on_a_real_time_axis(qtbot: QtBot) -> None:
    """A column is a fixed slice of time: frames far apart leave the columns between them holding
    the book as it stood (liquidity rested there all along), frames close together share one."""
    view = HeatmapView(columns=50, rows=40, column_us=1_000_000)
    qtbot.addWidget(view)
    first = levels([100.0], [1.0]), levels([100.5], [2.0])
    second = levels([100.0], [4.0]), levels([100.5], [8.0])
    view.apply_frame(make_frame(*first, ts=T0, tick=0.5, reset=True))
    view.apply_frame(make_frame(*second, ts=T0 + 300_000, tick=0.5))  # same second: same column
    assert view.filled == 1
    assert view.column(0).max() == pytest.approx(np.log1p(8.0))  # the latest state of that second
    view.apply_frame(make_frame(*first, ts=T0 + 1_200_000, tick=0.5))
    view.apply_frame(make_frame(*second, ts=T0 + 5_000_000, tick=0.5))  # 3 s without a frame
    assert view.filled == 6
    for age in (1, 2, 3, 4):  # seconds 1..4 hold the book of second 1
        assert view.column(age).max() == pytest.approx(np.log1p(2.0)), age
    x0 = view.columns - 6  # the oldest filled display column
    labels = [view.column_label(x0 + k) for k in range(6)]
    assert labels == [f"12:00:{s:02d}" for s in range(6)]  # equal spacing, equal time
    view.apply_frame(make_frame(*first, ts=T0 + 1_000_000_000, tick=0.5))  # further than the ring
    assert view.filled == view.columns
    assert view.column_label(view.columns - 1) == "12:16:40"
    assert view.column_label(0) == "12:15:51"
    assert "1 column = 1 s" in view.legend()


def test_heatmap_time_ticks_fall_on_round_times(qtbot: QtBot) -> None:
    view = HeatmapView(columns=400, rows=40, column_us=250_000)  # 100 s across
    qtbot.addWidget(view)
    book = levels([100.0], [1.0]), levels([100.5], [1.0])
    for i in range(500):
        view.apply_frame(make_frame(*book, ts=T0 + 3_700_000 + i * 250_000, tick=0.5))
    ((spacing, values),) = view.time_axis.tickValues(0, view.columns, 600)
    labels = [view.column_label(v) for v in values]
    assert spacing * view.column_us == 20_000_000  # 100 s over 600 px: a label every 20 s
    assert labels == ["12:00:40", "12:01:00", "12:01:20", "12:01:40", "12:02:00"]
    assert all(abs(view.time_at(v) % 20_000_000) < 1 for v in values)  # type: ignore[operator]


def test_the_spread_pane_counts_ticks_so_float_noise_is_no_widening(charts: ChartsView) -> None:
    """On a 0.1 grid, ask - bid is 0.09999999999854481 or 0.10000000000582077 depending on the
    level; both are one tick (issue 19, item 5). The pane says it counts ticks and has labels."""
    ts = [T0 + i * 100_000 for i in range(6)]
    bid = [63918.3, 63918.4, 64000.1, 64000.1, 63918.3, 63918.2]
    ask = [63918.4, 63918.5, 64000.2, 64000.3, 63918.4, 63918.3]
    assert len({a - b for a, b in zip(ask, bid, strict=True)}) > 2  # the noise is there
    charts.apply_frame(make_frame(ts=ts[-1], reset=True, tick=0.1, top=series(ts, bid, ask, [0.0] * 6)))
    assert charts.series.column("spread").tolist() == [1.0, 1.0, 1.0, 2.0, 1.0, 1.0]
    axis = charts.spread_plot.getAxis("right")
    assert "ticks" in axis.labelText
    y0, y1 = charts.spread_plot.getViewBox().viewRange()[1]
    assert y0 <= 0.0  # from zero: a one-tick step is not drawn as full height
    assert y1 >= 2.0
    charts.resize(800, 600)
    charts.show()
    values = [v for _, level in axis.tickValues(y0, y1, 100) for v in level]
    assert 1.0 in values
    assert 2.0 in values
