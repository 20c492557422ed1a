"""Execution settings in the app, with the real replay worker on the bundled sample: the dialog
applies and re-runs, the status bar shows the settings, they are saved, and "Copy as command"
gives a ``replayterm backtest`` line whose fills.csv is byte-identical to the app's export."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from replayterm.cli import main
from replayterm.core.execution import ConstantLatency, FeeSchedule
from replayterm.core.session.settings import SessionSettings
from replayterm.qt.controller import ReplayController
from replayterm.qt.execution.form import ExecutionForm
from replayterm.qt.execution.ui import ExecutionUI
from replayterm.qt.main_window import MainWindow

SAMPLE = sorted(str(p) for p in (Path(__file__).resolve().parents[2] / "data").glob("*.csv.gz"))
pytestmark = pytest.mark.skipif(not SAMPLE, reason="bundled sample not present")


def test_form_reads_back_what_it_shows(qtbot: QtBot) -> None:
    form = ExecutionForm()
    qtbot.addWidget(form)
    assert form.settings() == SessionSettings()
    custom = SessionSettings(
        latency=ConstantLatency(60_000, 1_000),
        fees=FeeSchedule.from_bps(-0.5, 4.0),
        slippage_bps=0.5,
        queue="prob",
        initial_cash=1_000.0,
        latency_model="feed",
        feed_scale=2.0,
        metrics_interval_us=30_000_000,
    )
    form.set_settings(custom)
    assert form.settings() == custom
    form.metrics_interval.setText("soon")
    with pytest.raises(ValueError, match="metrics-interval"):
        form.settings()


def test_settings_are_saved_and_restored(qtbot: QtBot, settings: QSettings) -> None:
    parent = MainWindow(settings=settings)
    qtbot.addWidget(parent)
    ui = parent.execution
    assert ui.settings == SessionSettings()
    chosen = SessionSettings(latency=ConstantLatency(80_000, 0), fees=FeeSchedule.from_bps(1, 3))
    ui.apply(chosen)
    again = ExecutionUI(settings, parent)
    assert again.settings == chosen
    assert "exec 80/0 ms" in again.label.text()
    assert "fees 1/3 bps" in again.label.text()


def test_apply_reruns_and_copy_as_command_gives_identical_fills(
    qtbot: QtBot, settings: QSettings, tmp_path: Path
) -> None:
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    controller = ReplayController(window)
    window.show()
    window.request_open(SAMPLE)
    qtbot.waitUntil(lambda: window.sink.frames_rendered >= 1, timeout=120_000)
    ui, ex = window.strategies, window.execution
    ui.load("imbalance_momentum", {"threshold": 0.25})
    ui.load("market_maker")
    qtbot.waitUntil(lambda: len(ui.store) == 2, timeout=60_000)
    start, end = window.transport.slider.span()
    window.seek_requested.emit(start + (end - start) // 3)
    qtbot.waitUntil(lambda: ui.now_us >= start + (end - start) // 3, timeout=60_000)
    before = {i.name: i.fills for i in ui.store.infos()}

    ex.show_dialog()
    dialog = ex.dialog
    assert dialog is not None
    dialog.form.entry_ms.setValue(80.0)
    dialog.form.fee_default.setChecked(False)
    dialog.form.maker_bps.setValue(1.0)
    dialog.form.taker_bps.setValue(3.0)
    dialog.form.through.setCurrentText("full")
    dialog.apply()
    assert "exec 80/0 ms" in ex.label.text()
    qtbot.waitUntil(lambda: controller.worker.settings == ex.settings and not ui.busy.busy, timeout=60_000)
    assert controller.worker.settings.latency == ConstantLatency(80_000, 0)
    qtbot.waitUntil(lambda: {i.name: i.fills for i in ui.store.infos()} != before, timeout=60_000)

    # One strategy gets settings of its own: the market maker pays no fees.
    mm = next(i for i in ui.store.infos() if i.name == "market_maker")
    dialog.scope.setCurrentIndex(dialog.scope.findData(mm.handle.id))
    dialog.own.setChecked(True)
    dialog.form.maker_bps.setValue(0.0)
    dialog.form.taker_bps.setValue(0.0)
    dialog.apply()
    qtbot.waitUntil(lambda: mm.handle.id in ex.own and "override" in ex.label.text(), timeout=60_000)

    window.seek_requested.emit(end)
    qtbot.waitUntil(lambda: ui.now_us >= end and not ui.busy.busy, timeout=120_000)
    app_out = tmp_path / "app"
    with qtbot.waitSignal(controller.worker.exported, timeout=60_000):
        ex.export_requested.emit(str(app_out))

    ex.copy_command()
    line = QGuiApplication.clipboard().text()
    argv = shlex.split(line)
    assert argv[:2] == ["replayterm", "backtest"]
    assert "--exec" in argv
    assert "fees-bps=0,0" in argv
    assert argv[-2:] == ["--out", "results"]
    cli_out = tmp_path / "cli"
    assert main([*argv[1:-1], str(cli_out)]) == 0
    app_fills = (app_out / "fills.csv").read_bytes()
    assert app_fills.count(b"\n") > 20
    assert (cli_out / "fills.csv").read_bytes() == app_fills

    window.close()
    assert not controller.replay_thread.isRunning()


def test_copy_backtest_command_leaves_out_failed_and_stopped_strategies(
    qtbot: QtBot, settings: QSettings
) -> None:
    """A failed or stopped strategy does not trade on in the app; the command must not run it
    (issue 19, item 13)."""
    from replayterm.core.session import ReplaySession

    parent = MainWindow(settings=settings)
    qtbot.addWidget(parent)
    session = ReplaySession.open(SAMPLE, SessionSettings(), to_ts="2024-01-02T00:01:00Z")
    kept = session.add_strategy("market_maker")
    stopped = session.add_strategy("mean_reversion")
    session.enable(stopped, False)
    ui = parent.execution
    ui.set_opened(SAMPLE, [i.name for i in session.instruments])
    ui.set_strategies([session.info(h) for h in session.strategies])
    argv = ui.command()
    assert "market_maker" in argv
    assert "mean_reversion" not in argv
    assert session.info(kept).status.value == "enabled"
    session.close()
