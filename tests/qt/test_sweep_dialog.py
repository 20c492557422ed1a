"""Strategy ▸ Sweep…: a sweep over two days from the dialog, results table and heatmap, export,
double-click to replay a run, Cancel, and the menu entry."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from replayterm.core.data.synthetic import generate_files
from replayterm.qt.main_window import MainWindow
from replayterm.qt.sweep.dialog import SweepDialog
from replayterm.qt.sweep.results_model import SORT_ROLE

SLOW = """
import time
from dataclasses import dataclass
from replayterm.core.strategy import Strategy

@dataclass
class P:
    delay_ms: float = 0.0

class Slow(Strategy):
    name = "slow"
    Params = P

    def on_book(self, ctx, book):
        if self.params.delay_ms:
            time.sleep(self.params.delay_ms / 1000)
"""


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    out = tmp_path_factory.mktemp("sweep-days")
    files: list[str] = []
    for i, day in enumerate(("2024-05-06", "2024-05-07")):
        g = generate_files(out, minutes=1, seed=3 + i, start=f"{day}T00:00:00Z")
        files += [str(g.book), str(g.trades)]
    return files


@pytest.fixture
def dialog(qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SweepDialog:
    monkeypatch.setenv("REPLAYTERM_SWEEPS_DIR", str(tmp_path / "sweeps"))
    d = SweepDialog()
    qtbot.addWidget(d)
    return d


def test_a_sweep_fills_the_table_and_the_heatmap(
    dialog: SweepDialog, qtbot: QtBot, two_days: list[str], tmp_path: Path
) -> None:
    dialog.set_data(two_days)
    dialog.set_strategies([])
    dialog.setup.strategy.setCurrentText("mean_reversion")
    dialog.setup.set_values({"lookback": "20,40", "entry_z": "1.5,2.5", "sample_ms": "500"})
    dialog.setup.per_day.setChecked(True)
    dialog.setup.workers.setValue(2)
    assert "4 combinations per day" in dialog.setup.count.text()
    dialog.start()
    assert dialog.running
    assert not dialog.run_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.running, timeout=180_000)
    qtbot.waitUntil(lambda: "8 of 8 runs" in dialog.status.text(), timeout=60_000)
    model = dialog.model
    assert len(model.rows) == 8
    assert all(r["status"] == "ok" for r in model.rows), [(r["status"], r["error"]) for r in model.rows]
    assert model.columns[:5] == ["run", "lookback", "entry_z", "day", "status"]

    # the heatmap: net_pnl over entry_z (x) and lookback (y), each cell the mean of its 2 days
    dialog.heatmap.x_box.setCurrentText("entry_z")
    dialog.heatmap.y_box.setCurrentText("lookback")
    p = dialog.heatmap.current
    assert p is not None
    assert (p.x, p.y) == ([1.5, 2.5], [20, 40])
    assert p.counts.tolist() == [[2, 2], [2, 2]]
    mine = [r["net_pnl"] for r in model.rows if r["lookback"] == 40 and r["entry_z"] == 1.5]
    assert math.isclose(p.values[1, 0], sum(mine) / 2)

    # sorting by a metric sorts numerically; export writes the rows in the order shown
    col = model.columns.index("net_pnl")
    dialog.table.sortByColumn(col, Qt.SortOrder.DescendingOrder)
    shown = [dialog.proxy.index(r, col).data(SORT_ROLE) for r in range(8)]
    assert shown == sorted(shown, reverse=True)
    assert dialog.export(tmp_path / "export.csv") == 8
    with (tmp_path / "export.csv").open() as f:
        exported = list(csv.DictReader(f))
    assert [float(r["net_pnl"]) for r in exported] == shown
    assert (next((tmp_path / "sweeps").iterdir()) / "sweep.parquet").is_file()

    # double-click a run: its strategy, typed parameters and its own day's files
    asked: list[tuple[str, dict[str, Any], list[str], object]] = []
    dialog.replay_requested.connect(lambda *args: asked.append(args))
    dialog.table.doubleClicked.emit(dialog.proxy.index(0, 0))
    top = model.rows[dialog.proxy.mapToSource(dialog.proxy.index(0, 0)).row()]
    spec, params, files, start = asked[0]
    assert spec == "mean_reversion"
    assert params["lookback"] == top["lookback"]
    assert params["entry_z"] == top["entry_z"]
    assert params["sample_ms"] == 500
    assert files == [f for f in two_days if top["day"] in f]
    assert start is None


@pytest.mark.slow  # tens of seconds; `make test` runs it, `pytest -m "not slow"` skips it
def test_cancel_stops_the_sweep_and_keeps_finished_rows(
    dialog: SweepDialog, qtbot: QtBot, two_days: list[str], tmp_path: Path
) -> None:
    strategy = tmp_path / "slow.py"
    strategy.write_text(SLOW)
    dialog.set_data(two_days[:2])
    dialog.set_strategies([str(strategy)])
    dialog.setup.strategy.setCurrentText(str(strategy))
    dialog.setup.set_values({"delay_ms": "0,5,5.5,6,6.5,7"})
    dialog.setup.workers.setValue(1)
    dialog.start()
    qtbot.waitUntil(lambda: len(dialog.model.rows) >= 1, timeout=120_000)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=120_000)
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Cancelled"), timeout=60_000)
    assert 1 <= len(dialog.model.rows) < 6
    assert dialog.run_button.isEnabled()


def test_bad_values_are_refused_before_running(dialog: SweepDialog, two_days: list[str]) -> None:
    dialog.set_data(two_days)
    dialog.set_strategies([])
    dialog.setup.strategy.setCurrentText("mean_reversion")
    dialog.setup.set_values({"lookback": "20,abc"})
    assert "lookback" in dialog.setup.count.text()
    dialog.start()
    assert not dialog.running
    assert "expects int" in dialog.status.text()


def test_the_strategy_menu_opens_the_sweep_and_a_run_is_replayed(qtbot: QtBot, two_days: list[str]) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    assert any(window.sweep.action in m.actions() for m in window.menuBar().findChildren(QMenu))
    window._opening = list(two_days)
    window.open_finished()
    dialog = window.sweep.show()
    assert dialog.files == two_days
    loads: list[tuple[str, dict[str, Any]]] = []
    window.strategies.load = lambda spec, params=None: loads.append((spec, dict(params or {})))  # type: ignore[method-assign]
    window.sweep.load_strategy.disconnect()
    window.sweep.load_strategy.connect(window.strategies.load)
    with qtbot.waitSignals([window.seek_requested, window.play], timeout=2000):
        dialog.replay_requested.emit("mean_reversion", {"lookback": 40}, two_days, None)
    assert loads == [("mean_reversion", {"lookback": 40})]
    # a run of other files (one day of a per-day sweep) opens them first
    with qtbot.waitSignal(window.open_requested, timeout=2000) as opened:
        dialog.replay_requested.emit("mean_reversion", {"lookback": 20}, two_days[:2], None)
    assert opened.args == [two_days[:2]]
    assert loads[-1] == ("mean_reversion", {"lookback": 20})
    window.close()


def test_the_sweep_defaults_to_the_loaded_strategy_and_writes_numbers_plainly(dialog: SweepDialog) -> None:
    """With market_maker loaded and one instrument open, the dialog proposed basis (two
    instruments), and wrote numbers in mixed forms (issue 19, item 13)."""
    from replayterm.qt.sweep.setup_form import format_default

    dialog.set_strategies(["market_maker"])
    assert dialog.setup.strategy.currentText() == "market_maker"
    fresh = SweepDialog()
    fresh.set_strategies([])  # nothing loaded: a one-instrument strategy, not basis
    assert fresh.setup.strategy.currentText() != "basis"
    assert format_default(0.00001) == "0.00001"
    assert format_default(250) == "250"
    assert format_default(2.0) == "2.0"


def test_the_window_offers_loaded_strategies_by_name_too(qtbot: QtBot) -> None:
    from types import SimpleNamespace

    window = MainWindow()
    qtbot.addWidget(window)
    loaded = [SimpleNamespace(spec="market_maker", status=SimpleNamespace(value="enabled"))]
    window.strategies.store.infos = lambda: loaded  # type: ignore[method-assign]
    assert window._strategy_files() == ["market_maker"]
    window.close()
