"""The app on every Tardis type: L2 + book_ticker + derivative_ticker + liquidations of one
instrument and a quotes-only second instrument, through the real worker and controller."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from replayterm.qt.controller import ReplayController
from replayterm.qt.main_window import MainWindow
from replayterm.qt.models.tape_model import LIQUIDATION
from tardis_files import T0, S, book_ticker, derivative_ticker, l2, liquidations, quotes, trades

PERP = "binance-futures:BTCUSDT"
SPOT = "binance:BTCUSDT"


def _files(folder: Path) -> list[str]:
    paths = [
        l2(folder),
        trades(folder),
        book_ticker(folder),
        derivative_ticker(folder),
        liquidations(folder),
        quotes(folder, ex="binance"),
    ]
    return [str(p) for p in paths]


def _open(qtbot: QtBot, settings: QSettings, tmp_path: Path) -> tuple[MainWindow, ReplayController]:
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    controller = ReplayController(window)
    window.show()
    window.request_open(_files(tmp_path))
    qtbot.waitUntil(lambda: window.sink.frames_rendered >= 1, timeout=60_000)
    return window, controller


def _settle(qtbot: QtBot, window: MainWindow) -> None:
    for _ in range(4):
        qtbot.wait(100)
        window.sink.flush()


def test_every_type_reaches_its_view(qtbot: QtBot, settings: QSettings, tmp_path: Path) -> None:
    window, controller = _open(qtbot, settings, tmp_path)
    try:
        assert [window.instrument_box.itemText(i) for i in range(window.instrument_box.count())] == [
            PERP,
            SPOT,
        ]
        assert window.instrument_action.isVisible()
        window.seek_requested.emit(T0 + 6 * S)
        qtbot.waitUntil(lambda: window.ticker.series()["local_ts"].shape[0] == 4, timeout=30_000)
        _settle(qtbot, window)
        # Book panel: the BBO check of the L2 book against book_ticker (2 of 3 messages match).
        assert window.book.text("bbo").startswith("66.7% px")
        assert window.transport.slider._marks == [T0 + 5 * S]  # the mismatch, a red tick
        # Tape: the two liquidations in their own style, filtered by their own size.
        rows = window.tape.model.rows()
        assert int(np.count_nonzero(np.abs(rows.side) == LIQUIDATION)) == 2
        assert (
            "LIQ" in window.tape.model.row_texts(int(np.flatnonzero(np.abs(rows.side) == LIQUIDATION)[0]))[1]
        )
        window.tape.liq_min_size.setValue(1.0)
        rows = window.tape.model.rows()
        assert int(np.count_nonzero(np.abs(rows.side) == LIQUIDATION)) == 1
        assert window.liquidations.points() == 1
        # Ticker panel: funding in the header.
        assert "funding" in window.ticker.header.text()
        # Switch the views to the quotes-only instrument.
        window.instrument_box.setCurrentIndex(1)
        qtbot.waitUntil(lambda: window.book.text("symbol").startswith(SPOT), timeout=30_000)
        assert "(quotes)" in window.book.text("symbol")
        _settle(qtbot, window)
        assert window.ticker.series()["local_ts"].shape[0] == 0
        assert window.book.text("bbo") == "— (the book is the ticker)"
        # A second ladder beside the first, on the other instrument.
        window.docks["ladder2"].show()
        assert window.second_ladder.selector.currentText() == SPOT  # the first one not shown at open
        window.second_ladder.selector.setCurrentIndex(0)
        qtbot.waitUntil(lambda: window.second_ladder._shown == PERP, timeout=30_000)
        assert window.second_ladder.ladder.model.rowCount() > 0
    finally:
        window.close()
        controller.shutdown()
