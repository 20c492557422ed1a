"""Strategy views fed hand-made frames: tables, PnL chart, chart marks, ladder orders, form."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QModelIndex, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QCheckBox, QLineEdit, QSpinBox, QTableView
from pytestqt.qtbot import QtBot
from qt_frames import T0, levels, make_frame

from replayterm.core.execution.exchange import RestingOrder
from replayterm.core.frames import Frame
from replayterm.core.frames.strategies import StrategyFrame
from replayterm.core.session.views import StrategyHandle, StrategyInfo
from replayterm.core.strategy import PnLSnapshot, StrategyError, StrategyStatus
from replayterm.core.strategy.records import EQUITY_COLUMNS, RecordChunk
from replayterm.qt.main_window import MainWindow
from replayterm.qt.models.ladder_model import ASK_COL, BID_COL, OWN_ROLE, LadderModel, compact
from replayterm.qt.strategy.busy import StallMonitor
from replayterm.qt.strategy.params_form import FloatSpinBox, ParamsForm, param_fields
from replayterm.qt.strategy.reload_watch import StrategyFileWatcher, spec_path

COLOURS = {1: "#4e79a7", 2: "#f28e2b"}


def info(
    sid: int, *, status: StrategyStatus = StrategyStatus.ENABLED, run_id: int = 1, **kw: Any
) -> StrategyInfo:
    base: dict[str, Any] = dict(
        handle=StrategyHandle(sid, f"s{sid}"),
        name=f"s{sid}",
        colour=COLOURS.get(sid, "#59a14f"),
        class_name="S",
        spec=None,
        instrument="TEST",
        params={},
        status=status,
        error=None,
        run_id=run_id,
        finished=False,
        position=0.0,
        avg_price=0.0,
        pnl=PnLSnapshot(0.0, 0.0, 0.0, 0.0, 0.0, 100.0),
        fills=0,
        open_orders=0,
        signals=0,
    )
    base.update(kw)
    return StrategyInfo(**base)


def chunk(start: int, **cols: Any) -> RecordChunk:
    n = len(next(iter(cols.values()))) if cols else 0
    return RecordChunk(
        start, start + n, {k: v if isinstance(v, list) else np.asarray(v) for k, v in cols.items()}
    )


def fills(start: int, ts: list[int], price: list[float], side: list[int]) -> RecordChunk:
    n = len(ts)
    return chunk(
        start,
        ts=np.asarray(ts, dtype=np.int64),
        exch_ts=np.asarray(ts, dtype=np.int64),
        order_id=np.arange(n, dtype=np.int64),
        side=np.asarray(side, dtype=np.int8),
        price=np.asarray(price, dtype=np.float64),
        amount=np.full(n, 0.5),
        fee=np.full(n, 0.01),
        maker=np.ones(n, dtype=bool),
        leaves=np.zeros(n),
    )


def signals(
    start: int, ts: list[int], kinds: list[str], strength: list[float], price: list[float]
) -> RecordChunk:
    return chunk(
        start,
        ts=np.asarray(ts, dtype=np.int64),
        strength=np.asarray(strength, dtype=np.float64),
        price=np.asarray(price, dtype=np.float64),
        kind=kinds,
        meta=[{} for _ in kinds],
    )


def equity(start: int, ts: list[int], net: list[float], position: list[float]) -> RecordChunk:
    n = len(ts)
    cols: dict[str, Any] = {name: np.zeros(n) for name in EQUITY_COLUMNS}
    cols["ts"] = np.asarray(ts, dtype=np.int64)
    cols["net"] = np.asarray(net, dtype=np.float64)
    cols["position"] = np.asarray(position, dtype=np.float64)
    return chunk(start, **cols)


def empty_chunk(kind: str) -> RecordChunk:
    if kind == "fills":
        return fills(0, [], [], [])
    if kind == "signals":
        return signals(0, [], [], [], [])
    return equity(0, [], [], [])


def sframe(
    sid: int,
    *,
    reset: bool = False,
    fill: RecordChunk | None = None,
    signal: RecordChunk | None = None,
    eq: RecordChunk | None = None,
    plots: dict[str, RecordChunk] | None = None,
    resting: list[RestingOrder] | None = None,
    **info_kw: Any,
) -> StrategyFrame:
    return StrategyFrame(
        info=info(sid, **info_kw),
        reset=reset,
        fills=fill if fill is not None else empty_chunk("fills"),
        signals=signal if signal is not None else empty_chunk("signals"),
        equity=eq if eq is not None else empty_chunk("equity"),
        logs=RecordChunk(0, 0, {"ts": [], "text": []}),
        plots=plots or {},
        resting=resting or [],
    )


def frame(ts: int, strategies: list[StrategyFrame], reset: bool = False) -> Frame:
    f = make_frame(
        levels([99.5, 99.0], [1.0, 2.0]),
        levels([100.0, 100.5], [1.0, 2.0]),
        ts=ts,
        reset=reset,
        symbol="TEST",
    )
    f.strategies = strategies
    return f


@pytest.fixture
def window(qtbot: QtBot, settings: QSettings) -> MainWindow:
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    return w


def feed(window: MainWindow, f: Frame) -> None:
    window.show_frame(f)
    window.sink.flush()


def test_tables_append_newest_first_and_a_reset_replaces_one_strategy(window: MainWindow) -> None:
    ui = window.strategies
    ui.set_strategies([info(1), info(2)])
    feed(
        window,
        frame(
            T0 + 10,
            [
                sframe(1, reset=True, fill=fills(0, [T0 + 1, T0 + 5], [99.5, 100.0], [1, -1])),
                sframe(2, reset=True, fill=fills(0, [T0 + 3], [99.0], [1])),
            ],
            reset=True,
        ),
    )
    assert ui.fills.rowCount() == 3
    assert ui.fills.column("ts").tolist() == [T0 + 1, T0 + 3, T0 + 5]  # merged by time
    assert ui.fills.ts_at(0) == T0 + 5  # newest on top
    inserted: list[tuple[int, int]] = []
    ui.fills.rowsInserted.connect(lambda _p, a, b: inserted.append((a, b)))
    feed(
        window,
        frame(T0 + 20, [sframe(1, fill=fills(2, [T0 + 12, T0 + 13], [99.5, 99.5], [1, 1])), sframe(2)]),
    )
    assert inserted == [(0, 1)]  # one batched insert at the top
    assert ui.fills.column("price", 1).tolist() == [99.5, 100.0, 99.5, 99.5]
    # strategy 2 was rewound (new run): its rows are replaced, strategy 1 keeps its own
    feed(
        window,
        frame(T0 + 30, [sframe(1), sframe(2, reset=True, run_id=2, fill=fills(0, [T0 + 25], [98.0], [-1]))]),
    )
    assert ui.fills.column("price", 2).tolist() == [98.0]
    assert len(ui.fills.column("ts", 1)) == 4
    index = ui.fills.index(0, 2)
    assert ui.fills.data(index) == "Sell"
    # unloading drops the rows of that strategy, and a late frame that still carries it is ignored
    ui.set_strategies([info(1)])
    assert ui.fills.column("sid").tolist() == [1, 1, 1, 1]
    feed(window, frame(T0 + 40, [sframe(1), sframe(2, fill=fills(1, [T0 + 35], [97.0], [1]))]))
    assert ui.fills.rowCount() == 4


def test_tables_keep_at_most_cap_rows(window: MainWindow) -> None:
    ui = window.strategies
    ui.fills.cap = 5
    ui.set_strategies([info(1)])
    for k in range(4):
        ts = [T0 + 10 * k + i for i in range(3)]
        feed(
            window,
            frame(T0 + 10 * k + 5, [sframe(1, reset=k == 0, fill=fills(3 * k, ts, [99.0] * 3, [1] * 3))]),
        )
    assert ui.fills.rowCount() == 5
    assert ui.fills.column("ts").tolist() == [T0 + 21, T0 + 22, T0 + 30, T0 + 31, T0 + 32]


def test_signals_table_kinds_and_double_click_seeks(window: MainWindow, qtbot: QtBot) -> None:
    ui = window.strategies
    ui.set_strategies([info(1)])
    sig = signals(0, [T0 + 1, T0 + 2], ["enter", "exit"], [0.7, -0.2], [99.75, 99.8])
    feed(window, frame(T0 + 5, [sframe(1, reset=True, signal=sig)], reset=True))
    assert ui.signals.kinds() == ["enter", "exit"]
    model, table = ui.signals, ui.signals_view.table
    assert model.data(model.index(0, 2)) == "exit"
    assert model.data(model.index(0, 3)) == "-0.2"
    window.docks["signals"].raise_()
    qtbot.waitUntil(table.isVisible)
    with qtbot.waitSignal(window.seek_requested, timeout=2000) as blocker:
        double_click(qtbot, table, model.index(1, 0))
    assert blocker.args == [T0 + 1]


def double_click(qtbot: QtBot, table: QTableView, index: QModelIndex) -> None:
    """A user's double click: the press selects the row, the double click opens it (QTest's
    double click alone has no press, so an item view would ignore it)."""
    pos = table.visualRect(index).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_pnl_chart_marks_and_price_series(window: MainWindow) -> None:
    ui = window.strategies
    ui.set_strategies([info(1), info(2)])
    ts = [T0 + i * 100_000 for i in range(50)]
    net = list(np.cumsum(np.linspace(-1, 1, 50)))
    pos = [0.0] * 10 + [1.0] * 20 + [-1.0] * 20
    plots = {
        "fair": chunk(0, ts=np.asarray(ts[:5]), value=np.full(5, 99.8)),  # a price: over the chart
        "z": chunk(0, ts=np.asarray(ts[:5]), value=np.linspace(-2, 2, 5)),  # not a price
    }
    feed(
        window,
        frame(
            ts[-1],
            [
                sframe(
                    1,
                    reset=True,
                    eq=equity(0, ts, net, pos),
                    fill=fills(0, [ts[3], ts[9]], [99.5, 100.0], [1, -1]),
                    signal=signals(0, [ts[4], ts[8]], ["a", "b"], [1.0, -1.0], [99.75, 99.75]),
                    plots=plots,
                ),
                sframe(2, reset=True),
            ],
            reset=True,
        ),
    )
    got_ts, got_net, got_pos = ui.pnl.equity(1)
    assert got_ts.tolist() == ts
    np.testing.assert_array_equal(got_net, net)
    np.testing.assert_array_equal(got_pos, pos)
    x, y = ui.pnl.curve(1)  # the visible window's points, in seconds
    assert len(x) > 0
    np.testing.assert_allclose(y, np.interp(x, np.asarray(ts) / 1e6, net))
    marks = ui.overlay.marks(1)
    assert marks is not None
    assert marks.fill_buy.getData()[1].tolist() == [99.5]
    assert marks.fill_sell.getData()[1].tolist() == [100.0]
    assert len(marks.sig_up.getData()[0]) == 1
    assert len(marks.sig_down.getData()[0]) == 1
    assert ui.data.router.decided(1, "fair") is True
    assert ui.data.router.decided(1, "z") is False
    assert "fair" in marks.lines
    assert (1, "z") in ui.pnl._ind
    ui.act_markers.setChecked(False)
    assert not marks.fill_buy.isVisible()


def test_ladder_marks_own_resting_orders_in_their_rows() -> None:
    model = LadderModel(rows=11)
    orders = [RestingOrder(1, 1, 99.0, 0.5, 3.25, 4.0), RestingOrder(2, -1, 100.5, 0.25, 0.0, 2.0)]
    f = frame(T0, [sframe(1, resting=orders), sframe(2, resting=[RestingOrder(3, 1, 99.0, 1.0, 0.0, 4.0)])])
    f.tick_size = 0.5
    changes: list[int] = []
    model.dataChanged.connect(lambda *a: changes.append(1))
    model.apply_frame(f)
    assert len(changes) == 1
    bid_row, ask_row = model.row_of_price(99.0), model.row_of_price(100.5)
    assert bid_row is not None
    assert ask_row is not None
    size, queue, colours = model.index(bid_row, BID_COL).data(OWN_ROLE)
    assert (size, queue) == ("1.5", "0")  # both strategies' buys at 99.0: summed size, best queue
    assert colours == [COLOURS[1], COLOURS[2]]
    assert model.index(ask_row, ASK_COL).data(OWN_ROLE)[:2] == ("0.25", "0")
    assert model.index(bid_row, ASK_COL).data(OWN_ROLE) is None
    assert "3.25 ahead" in model.own(bid_row, BID_COL)[3]
    # a disabled strategy's orders are not shown; nothing else changed, still one refresh
    f2 = frame(T0, [sframe(1, resting=orders, status=StrategyStatus.DISABLED), sframe(2)])
    f2.tick_size = 0.5
    model.apply_frame(f2)
    assert model.own_cells() == {}
    assert len(changes) == 2
    assert [compact(v) for v in (0.0, 0.004, 0.25, 3.25, 12.4, 1234.0)] == [
        "0",
        "0.004",
        "0.25",
        "3.2",
        "12",
        "1.2k",
    ]


@dataclasses.dataclass
class AllKinds:
    count: int = 3
    ratio: float = 0.0025
    active: bool = True
    label: str = "x"
    items: list = dataclasses.field(default_factory=list)  # type: ignore[type-arg]


def test_params_form_builds_typed_editors_and_reports_edits(qtbot: QtBot) -> None:
    form = ParamsForm()
    qtbot.addWidget(form)
    fields = param_fields(AllKinds)
    assert [(f.name, f.kind) for f in fields] == [
        ("count", int),
        ("ratio", float),
        ("active", bool),
        ("label", str),
        ("items", None),
    ]
    form.set_fields(fields, {"count": 4, "ratio": 0.0025, "active": True, "label": "x", "items": []})
    assert isinstance(form.editor("count"), QSpinBox)
    assert isinstance(form.editor("ratio"), FloatSpinBox)
    assert isinstance(form.editor("active"), QCheckBox)
    assert isinstance(form.editor("label"), QLineEdit)
    assert form.editor("items").isReadOnly()  # type: ignore[attr-defined]
    assert form.editor("ratio").text() == "0.0025"  # type: ignore[attr-defined]
    assert not form.dirty
    with qtbot.waitSignal(form.dirty_changed):
        form.editor("count").setValue(7)  # type: ignore[attr-defined]
    form.editor("ratio").setValue(1e-7)  # type: ignore[attr-defined]
    form.editor("active").setChecked(False)  # type: ignore[attr-defined]
    form.editor("label").setText("y")  # type: ignore[attr-defined]
    assert form.values() == {"count": 7, "ratio": 1e-7, "active": False, "label": "y"}
    form.set_values({"count": 7, "ratio": 1e-7, "active": False, "label": "y"})
    assert not form.dirty


def test_stall_monitor_flags_busy_silence_and_a_playing_replay_without_frames(qtbot: QtBot) -> None:
    mon = StallMonitor(stall_after_s=0.15)
    seen: list[bool] = []
    mon.stalled_changed.connect(seen.append)
    mon.busy(0.0)
    qtbot.waitUntil(lambda: seen == [True], timeout=2000)
    mon.busy(-1.0)
    assert seen == [True, False]
    mon.command_sent()
    qtbot.waitUntil(lambda: seen[-1] is True, timeout=2000)
    mon.activity(playing=True)
    assert seen[-1] is False
    qtbot.waitUntil(lambda: seen[-1] is True, timeout=2000)  # playing, and no frame comes
    mon.activity(playing=False)
    qtbot.wait(300)
    assert seen[-1] is False


def test_file_watcher_debounces_and_survives_replaced_files(qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "strat.py"
    path.write_text("x = 1\n")
    assert spec_path(f"{path}:Cls") == str(path)
    assert spec_path("market_maker") is None
    watcher = StrategyFileWatcher(debounce_ms=100)
    requests: list[tuple[int, str]] = []
    watcher.reload_requested.connect(lambda sid, p: requests.append((sid, p)))
    watcher.sync([info(1, spec=str(path)), info(2, spec=f"{path}:Cls"), info(3, spec="market_maker")])
    assert watcher.paths() == [str(path)]
    for k in range(3):  # a burst of writes is one reload
        path.write_text(f"x = {k + 2}\n")
        qtbot.wait(20)
    qtbot.waitUntil(lambda: len(requests) == 2, timeout=3000)
    assert sorted(requests) == [(1, str(path)), (2, str(path))]
    tmp = tmp_path / "strat.py.tmp"  # an editor that writes a new file and renames it over
    tmp.write_text("x = 10\n")
    tmp.replace(path)
    qtbot.waitUntil(lambda: len(requests) == 4, timeout=3000)
    path.write_text("x = 11\n")  # still watched after the replace
    qtbot.waitUntil(lambda: len(requests) == 6, timeout=3000)


def test_failed_strategy_shows_its_traceback_in_the_panel(window: MainWindow, qtbot: QtBot) -> None:
    ui = window.strategies
    err = StrategyError(
        T0 + 5, "on_trade", "exception", "RuntimeError: boom", "Traceback...\nRuntimeError: boom\n"
    )
    ui.set_strategies([info(1), info(2)])
    ui.panel.select(2)
    feed(window, frame(T0 + 10, [sframe(1, status=StrategyStatus.FAILED, error=err), sframe(2)]))
    panel = ui.panel
    assert panel.selected_id() == 1  # a strategy that fails is brought forward
    assert not panel.error_box.isHidden()
    assert "RuntimeError: boom" in panel.error_text.toPlainText()
    assert panel.model.data(panel.model.index(0, 1)) == "failed"
    qtbot.waitUntil(lambda: any("s1 failed" in m for m in window.log_panel.messages()), timeout=2000)


def test_dropping_a_py_file_loads_it_as_a_strategy(window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    plugin, data = tmp_path / "mine.py", tmp_path / "book.csv.gz"
    plugin.write_text("x = 1\n")
    data.write_bytes(b"")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(plugin)), QUrl.fromLocalFile(str(data))])
    drop = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    opened: list[list[str]] = []
    window.open_requested.connect(opened.append)
    with qtbot.waitSignal(window.strategies.add_strategy, timeout=1000) as added:
        window.dropEvent(drop)
    assert added.args == [str(plugin), {}]
    assert opened == [[str(data)]]  # the market data still opens as data


def test_strategy_menu_actions_have_shortcuts(window: MainWindow) -> None:
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Strategy")
    keys = {a.text(): a.shortcut().toString() for a in menu.actions() if not a.isSeparator()}
    assert keys["&Load Strategy File…"] == "Ctrl+L"
    assert keys["&Reload Strategy"] == "Ctrl+R"
    assert keys["&Enabled"] == "Ctrl+E"
    assert keys["&Stop Strategy Callback"] == "Ctrl+."
    assert "Load &Built-in" in keys
    builtins = next(a.menu() for a in menu.actions() if a.text() == "Load &Built-in")
    assert {"market_maker", "mean_reversion", "imbalance_momentum"} <= {a.text() for a in builtins.actions()}


def test_the_enable_box_in_the_list_asks_the_worker(window: MainWindow, qtbot: QtBot) -> None:
    ui = window.strategies
    ui.set_strategies([info(1), info(2, status=StrategyStatus.DISABLED)])
    model = ui.panel.model
    assert model.data(model.index(1, 0), Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    with qtbot.waitSignal(ui.enable_strategy, timeout=1000) as sent:
        model.setData(model.index(0, 0), Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert sent.args == [1, False]
    # the box shows the worker's answer, not the click
    assert model.data(model.index(0, 0), Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    ui.panel.select(2)
    assert not ui.panel.act_enable.isChecked()
    with qtbot.waitSignal(ui.enable_strategy, timeout=1000) as sent:
        ui.panel.act_enable.trigger()
    assert sent.args == [2, True]


def test_load_strategy_starts_in_the_folder_of_the_strategies(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Load Strategy started in the home folder (issue 19, item 13): it starts in the last
    strategy folder, else the folder of a loaded strategy file, else the bundled examples."""
    from PySide6.QtWidgets import QFileDialog

    import replayterm.qt.strategy.panel as panel_module

    starts: list[str] = []
    monkeypatch.setattr(
        QFileDialog,
        "getOpenFileName",
        staticmethod(lambda parent, title, start, filt: (starts.append(start), ("", ""))[1]),
    )
    panel = window.strategies.panel
    panel.load_dialog()
    assert starts[-1] == str(panel_module.examples_folder())  # nothing chosen before
    assert starts[-1] != str(Path.home())
    (tmp_path / "mine").mkdir()
    window.settings.setValue("strategies/last_dir", str(tmp_path / "mine"))
    panel.load_dialog()
    assert starts[-1] == str(tmp_path / "mine")
