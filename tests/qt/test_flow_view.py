"""The Order Flow view draws what ``core.flow`` computes for the replay time, in both modes, and
the "Order flow" layout shows it."""

from __future__ import annotations

import gzip
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from replayterm.core.data import open_sources
from replayterm.core.flow import OrderFlow
from replayterm.core.replay.instruments import build_instruments
from replayterm.qt.flow.view import OrderFlowView
from replayterm.qt.main_window import MainWindow

START = 1_721_347_200_000_000


def _trades(path: Path, n: int = 4000) -> Path:
    rng = np.random.default_rng(3)
    ts = START + np.cumsum(rng.integers(1_000, 60_000, n))
    price = (640_000 + np.cumsum(rng.integers(-2, 3, n))) / 10
    with gzip.open(path, "wt") as f:
        f.write("exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n")
        for i in range(n):
            side = "buy" if rng.random() < 0.5 else "sell"
            size = rng.integers(1, 900) / 1000
            f.write(f"binance-futures,BTCUSDT,{ts[i]},{ts[i]},{i},{side},{price[i]:.1f},{size:.3f}\n")
    return path


@pytest.fixture
def trades_file(tmp_path: Path) -> Path:
    return _trades(tmp_path / "binance-futures_trades_2024-07-19_BTCUSDT.csv.gz")


@pytest.fixture
def view(qtbot: QtBot) -> OrderFlowView:
    v = OrderFlowView()
    qtbot.addWidget(v)
    v.resize(1200, 700)
    v.show()
    yield v
    v.shutdown()


def _core(path: Path) -> OrderFlow:
    inst = build_instruments(open_sources([str(path)]))[0]
    return OrderFlow.open(inst.trades, inst.trade_sources)


def test_candles_cvd_and_profile_are_the_core_tables(
    qtbot: QtBot, view: OrderFlowView, trades_file: Path
) -> None:
    view.interval_box.setCurrentText("15s")
    view.open_data([str(trades_file)], "binance-futures:BTCUSDT")
    now = START + 100_000_000 + 123_456
    with qtbot.waitSignal(view.service.opened, timeout=60_000):  # type: ignore[union-attr]
        pass
    view.apply_frame(SimpleNamespace(local_ts=now, reset=True))  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: view._frame is not None and view._frame.request.now == now, timeout=30_000)
    frame = view._frame
    assert frame is not None
    flow = _core(trades_file)
    x0 = frame.request.x0 // 15_000_000 * 15_000_000
    bars = flow.bars("15s", max(x0, flow.span[0]), now).columns
    np.testing.assert_array_equal(view.candles.c, bars["close"])
    np.testing.assert_array_equal(view.candles.h, bars["high"])
    np.testing.assert_array_equal(view.volume.y, bars["volume"])
    cvd = flow.cvd("15s", max(x0, flow.span[0]), now).columns
    np.testing.assert_array_equal(view.cvd_line.getData()[1][1::2], cvd["close"])
    summary = flow.profile(flow.span[0], now).summary()
    assert view.profile.poc == summary["poc"]
    assert frame.bars.columns["last_us"][-1] <= now


def test_footprint_mode_draws_the_footprint(qtbot: QtBot, view: OrderFlowView, trades_file: Path) -> None:
    view.interval_box.setCurrentText("30s")
    view.rows_box.setValue(5)
    view.mode_box.setCurrentIndex(1)
    view.open_data([str(trades_file)], "")
    with qtbot.waitSignal(view.service.opened, timeout=60_000):  # type: ignore[union-attr]
        pass
    now = START + 200_000_000
    view.apply_frame(SimpleNamespace(local_ts=now, reset=True))  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: view._frame is not None and view._frame.footprint is not None, timeout=30_000)
    fp = view._frame.footprint  # type: ignore[union-attr]
    assert fp is not None
    np.testing.assert_array_equal(view.footprint.bid, fp.columns["bid_volume"])
    np.testing.assert_array_equal(view.footprint.ask, fp.columns["ask_volume"])
    assert len(view.candles.x) == 0
    view.grab()  # paints without error


def test_order_flow_layout(qtbot: QtBot, settings: object) -> None:
    w = MainWindow(settings=settings)  # type: ignore[arg-type]
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.order_flow_layout()
    d = w.docks
    assert d["flow"].isVisible()
    assert d["heatmap"].isVisible()
    assert d["ladder"].isVisible()
    assert d["tape"].isVisible()
    assert not d["charts"].isVisible()
    assert d["flow"].width() > d["ladder"].width()
    w.reset_layout()
    assert d["charts"].isVisible()


def test_bubbles_area_follows_size_and_the_filter_hides_small_prints() -> None:
    from replayterm.qt.flow.bubbles import MAX_DIAMETER_PX, diameters, merge_prints

    d = diameters(np.array([1.0, 4.0, 16.0]))
    np.testing.assert_allclose((d / d[-1]) ** 2, [1 / 16, 4 / 16, 1.0])  # area ∝ size
    assert d[-1] == MAX_DIAMETER_PX
    col = np.array([0, 0, 0, 1])
    price = np.array([10.0, 10.0, 10.0, 10.0])
    amount = np.array([1.0, 2.0, 5.0, 1.0])
    side = np.array([1, 1, -1, 1], dtype=np.int8)
    x, y, size, s = merge_prints(col, price, amount, side)
    assert set(y.tolist()) == {10.0}
    assert sorted(zip(x.tolist(), s.tolist(), size.tolist(), strict=True)) == [
        (0.0, -1, 5.0),
        (0.0, 1, 3.0),
        (1.0, 1, 1.0),
    ]


def test_heatmap_bubbles_follow_frames(qtbot: QtBot, settings: object) -> None:
    from qt_frames import BookWalk

    w = MainWindow(settings=settings)  # type: ignore[arg-type]
    qtbot.addWidget(w)
    w.show()
    walk = BookWalk(seed=5)
    for i in range(30):
        w.show_frame(walk.step(reset=i == 0))
        w.sink.flush()
    drawn = len(w.bubbles.item.x)
    assert drawn > 0
    w.bubbles.min_size.setValue(1e9)
    assert len(w.bubbles.item.x) == 0


def test_candles_on_the_price_chart_replace_band_and_dots(
    qtbot: QtBot, settings: object, trades_file: Path
) -> None:
    from replayterm.qt.flow.chart_candles import bar_size_for

    w = MainWindow(settings=settings)  # type: ignore[arg-type]
    qtbot.addWidget(w)
    w.show()
    w.flow.open_data([str(trades_file)], "")
    with qtbot.waitSignal(w.flow.service.opened, timeout=60_000):  # type: ignore[union-attr]
        pass
    cc = w.chart_candles
    cc.act.setChecked(True)
    assert not w.charts.band.isVisible()
    assert not w.charts.dots.isVisible()
    now = START + 150_000_000
    w.charts.act_follow.setChecked(False)
    w.charts.price_plot.setXRange((now - 120_000_000) / 1e6, now / 1e6, padding=0.0)
    cc.apply_frame(SimpleNamespace(local_ts=now, reset=True))  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: len(cc.candles.x) > 0, timeout=30_000)
    size = bar_size_for(120)
    (x0, _x1), _ = w.charts.price_plot.getViewBox().viewRange()
    flow = _core(trades_file)
    start = max(int(x0 * 1e6) // (size * 1_000_000) * size * 1_000_000, flow.span[0])
    bars = flow.bars(f"{size}s", start, now).columns
    np.testing.assert_array_equal(cc.candles.c, bars["close"])
    np.testing.assert_array_equal(cc.volume.y, bars["volume"])
    cc.act.setChecked(False)
    assert w.charts.band.isVisible()
    assert not cc.candles.isVisible()
    w.close()


def test_fixed_range_profile_is_the_profile_of_the_dragged_region(
    qtbot: QtBot, view: OrderFlowView, trades_file: Path
) -> None:
    view.interval_box.setCurrentText("15s")
    view.open_data([str(trades_file)], "")
    with qtbot.waitSignal(view.service.opened, timeout=60_000):  # type: ignore[union-attr]
        pass
    now = START + 180_000_000
    view.apply_frame(SimpleNamespace(local_ts=now, reset=True))  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: view._frame is not None, timeout=30_000)
    view.profile_box.setCurrentIndex(2)
    assert view.region.isVisible()
    lo, hi = START + 30_000_000, START + 90_000_000
    view.region.setRegion((lo / 1e6, hi / 1e6))
    view.region.sigRegionChangeFinished.emit(view.region)
    qtbot.waitUntil(
        lambda: (
            view._frame is not None
            and view._frame.request.profile == "fixed"
            and view._frame.request.fixed is not None
        ),
        timeout=30_000,
    )
    got = view._frame.profile.summary()  # type: ignore[union-attr]
    fixed = view._frame.request.fixed  # type: ignore[union-attr]
    expect = _core(trades_file).profile(fixed[0], fixed[1]).summary()
    assert (got["poc"], got["vah"], got["val"], got["volume"]) == (
        expect["poc"],
        expect["vah"],
        expect["val"],
        expect["volume"],
    )


def test_export_image_writes_a_png(qtbot: QtBot, view: OrderFlowView, tmp_path: Path) -> None:
    from replayterm.qt.widgets.export_image import save_png

    assert save_png(view, tmp_path / "flow")
    data = (tmp_path / "flow.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert not save_png(view, tmp_path / "missing" / "dir" / "x.png")


def test_ladder_volume_and_pulling_stacking_columns(qtbot: QtBot, settings: object) -> None:
    from dataclasses import replace

    from qt_frames import BookWalk

    w = MainWindow(settings=settings)  # type: ignore[arg-type]
    qtbot.addWidget(w)
    w.show()
    walk = BookWalk(seed=9)
    first = walk.step(reset=True)
    w.ladder.apply_frame(first)
    cols = w.ladder_flow
    cols.apply_frame(first)
    levels = w.ladder.model.levels()
    # volume at price: the profile's rows summed into the ladder's rows
    prices = np.array([p for p, _b, _a in levels])
    cols._prof_ticks = np.sort(prices)
    cols._prof_buy = np.arange(len(prices), dtype=np.float64)
    cols._prof_sell = np.ones(len(prices))
    sold, bought = cols.volume_rows()
    order = np.argsort(prices)
    np.testing.assert_array_equal(bought[order], cols._prof_buy)
    np.testing.assert_array_equal(sold, np.ones(len(prices)))
    # pulling/stacking: 11 s later, one bid level doubled and the others unchanged
    later = replace(
        first,
        reset=False,
        local_ts=first.local_ts + 11_000_000,
        bids=np.array([[first.bids[0, 0], first.bids[0, 1] * 2], *first.bids[1:].tolist()]),
    )
    w.ladder.apply_frame(later)
    cols.apply_frame(later)
    delta = cols.delta_rows()
    row = w.ladder.model.row_of_price(float(first.bids[0, 0]))
    assert row is not None
    assert delta[row] == pytest.approx(float(first.bids[0, 1]))
    assert np.count_nonzero(np.abs(delta) > 1e-12) == 1
    cols.grab()


def test_bookmarks_and_loop_region(qtbot: QtBot, settings: object) -> None:
    w = MainWindow(settings=settings)  # type: ignore[arg-type]
    qtbot.addWidget(w)
    bm = w.bookmarks
    bm.set_files(["a.csv", "b.csv"])
    seeks: list[int] = []
    bm.seek_requested.connect(seeks.append)
    frame = SimpleNamespace(local_ts=START + 10_000_000, playing=False, generation=1)
    bm.apply_frame(frame)  # type: ignore[arg-type]
    bm.add()
    bm.apply_frame(SimpleNamespace(local_ts=START + 20_000_000, playing=False, generation=1))  # type: ignore[arg-type]
    bm.add()
    assert w.transport.slider._bookmarks == [START + 10_000_000, START + 20_000_000]
    bm.jump(-1)
    assert seeks[-1] == START + 10_000_000
    # kept per set of files
    bm.set_files(["c.csv"])
    assert bm.marks == []
    bm.set_files(["b.csv", "a.csv"])
    assert bm.marks == [START + 10_000_000, START + 20_000_000]
    # loop: at the end of the region while playing, seek back to its start (once per generation)
    bm.apply_frame(SimpleNamespace(local_ts=START + 30_000_000, playing=False, generation=1))  # type: ignore[arg-type]
    bm.set_loop_start()
    bm.apply_frame(SimpleNamespace(local_ts=START + 40_000_000, playing=False, generation=1))  # type: ignore[arg-type]
    bm.set_loop_end()
    bm.act_loop.setChecked(True)
    seeks.clear()
    bm.apply_frame(SimpleNamespace(local_ts=START + 40_000_001, playing=True, generation=2))  # type: ignore[arg-type]
    bm.apply_frame(SimpleNamespace(local_ts=START + 40_000_100, playing=True, generation=2))  # type: ignore[arg-type]
    assert seeks == [START + 30_000_000]
    assert w.transport.slider._loop == (START + 30_000_000, START + 40_000_000)


def test_crosshair_is_shared_by_chart_order_flow_heatmap_and_ladder(qtbot: QtBot, settings: object) -> None:
    from qt_frames import BookWalk

    w = MainWindow(settings=settings)  # type: ignore[arg-type]
    qtbot.addWidget(w)
    w.show()
    walk = BookWalk(seed=2)
    for i in range(20):
        w.show_frame(walk.step(reset=i == 0))
    w.sink.flush()
    levels = w.ladder.model.levels()
    price = levels[len(levels) // 2][0]
    t = int(w.heatmap.newest_ts())  # type: ignore[arg-type]
    w.crosshair.set(t, price)
    for name, (v, h) in w.crosshair.lines.items():
        assert h.value() == price, name
        assert v.isVisible(), name
    assert w.crosshair.lines["chart"][0].value() == t / 1e6
    assert w.crosshair.lines["heatmap"][0].value() == w.heatmap.x_at(t)
    assert w.ladder_flow.crosshair_row() == len(levels) // 2
    assert w.crosshair_label.text().endswith(f"{price:.1f}") or str(price)[:6] in w.crosshair_label.text()
    w.crosshair.act.setChecked(False)
    assert not w.crosshair.lines["flow"][1].isVisible()


def test_ratio_value_area_and_session_hours_reach_the_core(
    qtbot: QtBot, view: OrderFlowView, trades_file: Path
) -> None:
    view.open_data([str(trades_file)], "")
    with qtbot.waitSignal(view.service.opened, timeout=60_000):  # type: ignore[union-attr]
        pass
    view.ratio_box.setValue(2.0)
    view.va_box.setValue(50)
    view.session_edit.setText("00:01-23:00")
    view.session_edit.editingFinished.emit()
    now = START + 200_000_000
    view.apply_frame(SimpleNamespace(local_ts=now, reset=True))  # type: ignore[arg-type]
    qtbot.waitUntil(
        lambda: (
            view._frame is not None
            and view._frame.request.sessions == "00:01-23:00"
            and view._frame.request.now == now
        ),
        timeout=30_000,
    )
    req = view._frame.request  # type: ignore[union-attr]
    assert (req.ratio, req.value_area) == (2.0, 0.5)
    flow = _core(trades_file)
    expect = flow.profile(START + 60_000_000, now, 1, 0.5).summary()
    got = view._frame.profile.summary()  # type: ignore[union-attr]
    assert (got["poc"], got["vah"], got["val"]) == (expect["poc"], expect["vah"], expect["val"])
    view.session_edit.setText("25:00")
    assert view.current_request() is None
    assert "bad session time" in view.status.text()
