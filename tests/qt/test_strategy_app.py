"""The strategy side of the app with the real replay worker on the bundled sample: load through
the panel, tables and PnL against a headless session, parameters, failures, a stuck callback,
hot reload."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QCheckBox, QFileDialog, QLineEdit, QSpinBox
from pytestqt.qtbot import QtBot
from qt_sync import sync_worker

from replayterm.core.session import ReplaySession
from replayterm.core.strategy import StrategyStatus
from replayterm.qt.controller import ReplayController
from replayterm.qt.main_window import MainWindow
from replayterm.qt.models.ladder_model import ASK_COL, BID_COL
from replayterm.qt.strategy.params_form import FloatSpinBox
from replayterm.qt.strategy.ui import StrategyUI

SAMPLE = sorted(str(p) for p in (Path(__file__).resolve().parents[2] / "data").glob("*.csv.gz"))
pytestmark = pytest.mark.skipif(not SAMPLE, reason="bundled sample not present")

HEADER = "from dataclasses import dataclass\nfrom replayterm.core.strategy import Strategy\n"


class App:
    def __init__(self, qtbot: QtBot, settings: QSettings) -> None:
        self.qtbot = qtbot
        self.window = MainWindow(settings=settings)
        qtbot.addWidget(self.window)
        self.controller = ReplayController(self.window)
        self.window.show()
        self.window.request_open(SAMPLE)
        qtbot.waitUntil(lambda: self.window.sink.frames_rendered >= 1, timeout=120_000)
        self.start, self.end = self.window.transport.slider.span()

    @property
    def ui(self) -> StrategyUI:
        return self.window.strategies

    def load_file(self, monkeypatch: pytest.MonkeyPatch, path: Path, count: int = 1) -> int:
        """Load ``path`` the way a user does: Strategy ▸ Load Strategy File… and the file dialog."""
        monkeypatch.setattr(
            QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), "Python strategy (*.py)")
        )
        self.ui.panel.act_load.trigger()
        self.qtbot.waitUntil(lambda: len(self.ui.store) == count, timeout=60_000)
        return self.ui.store.ids()[-1]

    def seek(self, ts: int) -> None:
        self.window.seek_requested.emit(ts)
        self.qtbot.waitUntil(lambda: self.ui.now_us == ts, timeout=60_000)
        self.settle()

    def settle(self) -> None:
        """Let the frames in flight reach the views: a barrier through the worker's queue, then
        the pending frame rendered."""
        sync_worker(self.qtbot, self.controller.worker, self.window.sink)

    def info(self, sid: int):  # type: ignore[no-untyped-def]
        info = self.ui.store.info(sid)
        assert info is not None
        return info

    def close(self) -> None:
        for _ in range(50):  # never leave a stuck strategy callback behind the shutdown
            if not self.controller.worker.request_abort_callback():
                break
            self.qtbot.wait(50)
        self.window.close()
        assert not self.controller.replay_thread.isRunning()


@pytest.fixture
def app(qtbot: QtBot, settings: QSettings) -> Iterator[App]:
    a = App(qtbot, settings)
    yield a
    a.close()


def reference(spec: str, ts: int, params: dict | None = None) -> tuple[ReplaySession, object]:
    session = ReplaySession.open(SAMPLE)
    handle = session.add_strategy(spec, params)
    session.seek(ts)
    return session, handle


def test_builtin_from_the_menu_fills_table_pnl_and_marks_match_a_headless_session(
    app: App, qtbot: QtBot
) -> None:
    builtin = next(a for a in app.ui.panel.builtin_menu.actions() if a.text() == "market_maker")
    builtin.trigger()
    qtbot.waitUntil(lambda: len(app.ui.store) == 1, timeout=60_000)
    sid = app.ui.store.ids()[0]
    assert app.ui.panel.selected_id() == sid
    app.window.transport.set_speed(50.0)
    app.window.transport.toggle_play()
    qtbot.waitUntil(lambda: app.ui.fills.rowCount() > 50, timeout=30_000)
    app.window.transport.toggle_play()
    app.settle()
    played_to = app.ui.now_us
    session, handle = reference("market_maker", played_to)
    expected = session.fills(handle)
    assert app.ui.fills.rowCount() == len(expected) == app.info(sid).fills
    for name in ("ts", "price", "amount", "side", "fee", "maker"):
        np.testing.assert_array_equal(app.ui.fills.column(name, sid), expected[name], err_msg=name)
    eq = session.equity(handle)
    ts, net, pos = app.ui.pnl.equity(sid)
    np.testing.assert_array_equal(ts, eq["ts"])
    np.testing.assert_array_equal(net, eq["net"])
    np.testing.assert_array_equal(pos, eq["position"])
    marks = app.ui.overlay.marks(sid)
    assert marks is not None
    shown = len(marks.fill_buy.getData()[0]) + len(marks.fill_sell.getData()[0])
    assert 0 < shown <= len(expected)  # the fills inside the chart's time window
    session.close()

    # seek back (to a moment when it has orders resting): the table holds exactly the fills up
    # to there, and the ladder shows its resting orders in their rows
    session, handle = reference("market_maker", app.start + (played_to - app.start) // 2)
    while not session.resting_orders(handle):
        session.advance_to(session.now + 50_000)
    middle = session.now
    app.seek(middle)
    np.testing.assert_array_equal(app.ui.fills.column("ts", sid), session.fills(handle)["ts"])
    ladder = app.window.ladder.model
    expected_cells = {
        (row, BID_COL if o.side > 0 else ASK_COL)
        for o in session.resting_orders(handle)
        if (row := ladder.row_of_price(o.price)) is not None
    }
    assert expected_cells
    assert set(ladder.own_cells()) == expected_cells
    session.close()

    # double-click a fill: the replay goes there
    row = app.ui.fills.rowCount() // 2
    target = app.ui.fills.ts_at(row)
    app.window.docks["fills"].raise_()
    table = app.ui.fills_view.table
    qtbot.waitUntil(table.isVisible)
    from test_strategy_views import double_click

    double_click(qtbot, table, app.ui.fills.index(row, 0))
    qtbot.waitUntil(lambda: app.ui.now_us == target, timeout=30_000)


def test_parameter_form_builds_editors_from_the_params_fields_and_apply_reruns(
    app: App, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "tunable.py"
    path.write_text(
        HEADER + "@dataclass\n"
        "class P:\n"
        "    every: int = 50\n"
        "    strength: float = 0.5\n"
        "    enabled: bool = True\n"
        "    kind: str = 'tick'\n"
        "class Tunable(Strategy):\n"
        "    name = 'tunable'\n"
        "    Params = P\n"
        "    n = 0\n"
        "    def on_trade(self, ctx, trade):\n"
        "        self.n += 1\n"
        "        if self.params.enabled and self.n % self.params.every == 0:\n"
        "            ctx.signal(self.params.kind, self.params.strength)\n"
    )
    app.seek(app.start + 60_000_000)
    sid = app.load_file(monkeypatch, path)
    form = app.ui.panel.form
    assert isinstance(form.editor("every"), QSpinBox)
    assert isinstance(form.editor("strength"), FloatSpinBox)
    assert isinstance(form.editor("enabled"), QCheckBox)
    assert isinstance(form.editor("kind"), QLineEdit)
    app.settle()
    before = app.ui.signals.kinds(sid)
    assert before
    assert set(before) == {"tick"}
    assert not app.ui.panel.apply_button.isEnabled()
    form.editor("every").setValue(25)  # type: ignore[attr-defined]
    form.editor("strength").setValue(-0.75)  # type: ignore[attr-defined]
    form.editor("kind").setText("tock")  # type: ignore[attr-defined]
    assert app.ui.panel.apply_button.isEnabled()
    qtbot.mouseClick(app.ui.panel.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.info(sid).params["kind"] == "tock", timeout=30_000)
    app.settle()
    assert app.info(sid).params == {"every": 25, "strength": -0.75, "enabled": True, "kind": "tock"}
    kinds = app.ui.signals.kinds(sid)
    assert set(kinds) == {"tock"}  # re-ran from the start with the new parameters
    assert len(kinds) in (2 * len(before), 2 * len(before) + 1)
    assert set(app.ui.signals.column("strength", sid).tolist()) == {-0.75}
    assert not form.dirty


def test_a_raising_strategy_fails_with_its_traceback_and_the_replay_goes_on(
    app: App, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "raises.py"
    path.write_text(
        HEADER + "class Raises(Strategy):\n"
        "    name = 'raises'\n"
        "    n = 0\n"
        "    def on_trade(self, ctx, trade):\n"
        "        self.n += 1\n"
        "        if self.n == 30:\n"
        "            raise RuntimeError('boom at trade thirty')\n"
    )
    sid = app.load_file(monkeypatch, path)
    assert app.info(sid).status is StrategyStatus.ENABLED
    app.window.transport.set_speed(50.0)
    app.window.transport.toggle_play()
    qtbot.waitUntil(lambda: app.info(sid).status is StrategyStatus.FAILED, timeout=30_000)
    panel = app.ui.panel
    qtbot.waitUntil(lambda: not panel.error_box.isHidden(), timeout=5000)
    assert "boom at trade thirty" in panel.error_text.toPlainText()
    assert "raises.py" in panel.error_text.toPlainText()  # the traceback points at the file
    assert "on_trade" in panel.error_title.text()
    failed_at = app.ui.now_us
    qtbot.waitUntil(lambda: app.ui.now_us > failed_at + 2_000_000, timeout=10_000)  # still playing
    app.window.transport.toggle_play()
    qtbot.waitUntil(lambda: any("raises failed" in m for m in app.window.log_panel.messages()), timeout=5000)


def test_a_stuck_callback_is_stopped_from_the_window(
    app: App, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "hangs.py"
    path.write_text(
        HEADER + "class Hangs(Strategy):\n"
        "    name = 'hangs'\n"
        "    def on_trade(self, ctx, trade):\n"
        "        while True:\n"
        "            pass\n"
    )
    app.ui.stall.stall_after_s = 0.5
    app.seek(app.start + 20_000_000)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    app.ui.panel.act_load.trigger()
    stop = app.ui.busy.stop
    qtbot.waitUntil(stop.isVisible, timeout=10_000)  # the window stays responsive and offers a way out
    qtbot.mouseClick(stop, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(app.ui.store) == 1, timeout=10_000)
    sid = app.ui.store.ids()[0]
    info = app.info(sid)
    assert info.status is StrategyStatus.FAILED
    assert info.error is not None
    assert info.error.kind == "aborted"
    qtbot.waitUntil(lambda: not stop.isVisible(), timeout=5000)
    before = app.ui.now_us
    app.window.step_message.emit()  # the replay goes on
    qtbot.waitUntil(lambda: app.ui.now_us > before, timeout=10_000)


def test_saving_the_file_reloads_it_from_the_start_to_the_current_moment(
    app: App, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # the app logs at INFO; the log panel shows what passes
    path = tmp_path / "flip.py"

    def write(version: str, every: int) -> None:
        path.write_text(
            HEADER + f"class Flip{version}(Strategy):\n"
            f"    name = 'flip'\n"
            "    n = 0\n"
            "    def on_trade(self, ctx, trade):\n"
            "        self.n += 1\n"
            f"        if self.n % {every} == 0:\n"
            f"            ctx.signal('{version}', 1.0)\n"
        )

    write("v1", 40)
    here = app.start + 90_000_000
    app.seek(here)
    sid = app.load_file(monkeypatch, path)
    app.settle()
    first = app.ui.signals.kinds(sid)
    assert first
    assert set(first) == {"v1"}
    assert app.info(sid).class_name == "Flipv1"
    write("v2_new", 20)  # a different size as well: no stale bytecode
    os.utime(path, (time.time() + 2, time.time() + 2))
    qtbot.waitUntil(lambda: app.info(sid).class_name == "Flipv2_new", timeout=20_000)
    app.settle()
    kinds = app.ui.signals.kinds(sid)
    assert set(kinds) == {"v2_new"}
    assert len(kinds) in (2 * len(first), 2 * len(first) + 1)
    assert app.ui.now_us == here  # back at the moment it was
    assert app.ui.signals.column("ts", sid).max() <= here
    messages = app.window.log_panel.messages
    qtbot.waitUntil(lambda: any("Reloading flip: flip.py was saved" in m for m in messages()), timeout=5000)
    qtbot.waitUntil(lambda: any("Reloaded flip (Flipv2_new)" in m for m in messages()), timeout=5000)

    # a save that does not import: the error is shown and the running version stays
    path.write_text(HEADER + "class Broken(Strategy):\n    def on_trade(self, ctx, trade)\n")
    os.utime(path, (time.time() + 4, time.time() + 4))
    dialog = app.window.error_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=20_000)
    assert "Cannot reload flip" in dialog.text()
    assert "SyntaxError" in dialog.text()
    assert app.info(sid).class_name == "Flipv2_new"
    assert app.info(sid).status is StrategyStatus.ENABLED
    assert not any("Reloaded flip (Broken" in m for m in messages())


def test_a_file_that_does_not_load_is_reported_and_nothing_is_added(
    app: App, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "nothing.py"
    path.write_text("x = 1\n")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    app.ui.panel.act_load.trigger()
    dialog = app.window.error_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=20_000)
    assert "defines no subclass" in dialog.text()
    assert len(app.ui.store) == 0
    assert not app.ui.panel.empty.isHidden()


def test_closing_the_window_while_a_callback_hangs_does_not_hang(
    app: App, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "hangs.py"
    path.write_text(
        HEADER + "class Hangs(Strategy):\n"
        "    name = 'hangs'\n"
        "    def on_trade(self, ctx, trade):\n"
        "        while True:\n"
        "            pass\n"
    )
    app.ui.stall.stall_after_s = 0.3
    app.seek(app.start + 20_000_000)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    app.ui.panel.act_load.trigger()
    qtbot.waitUntil(app.ui.busy.stop.isVisible, timeout=10_000)
    app.window.close()  # returns although the callback never does...
    assert not app.controller.replay_thread.isRunning()  # ...with the replay thread stopped


def test_a_long_strategy_start_shows_progress_and_can_be_cancelled(
    app: App, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "slow.py"
    path.write_text(
        HEADER + "import time\n"
        "class Slow(Strategy):\n"
        "    name = 'slow'\n"
        "    def on_trade(self, ctx, trade):\n"
        "        time.sleep(0.0002)\n"
    )
    app.seek(app.end)  # a start runs the strategy over the whole file: seconds
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    app.ui.panel.act_load.trigger()
    busy = app.ui.busy
    qtbot.waitUntil(lambda: busy.isVisible() and busy.progress.bar.isVisible(), timeout=20_000)
    assert "running strategies" in busy.progress.message.text()
    assert app.window.act_cancel_open.isEnabled()  # Esc cancels too
    qtbot.mouseClick(busy.progress.cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not busy.isVisible(), timeout=20_000)
    assert len(app.ui.store) == 0  # a cancelled start leaves nothing behind
    before = app.ui.now_us
    app.seek(app.start + 1_000_000)
    assert app.ui.now_us != before
