from __future__ import annotations

import logging
import sys

import pytest
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from qt_frames import levels, make_frame

from replayterm.qt.compat import paint_guard
from replayterm.qt.excepthooks import ExceptionReporter
from replayterm.qt.views.book_panel import BookPanel
from replayterm.qt.views.log_panel import LogPanel, QtLogHandler


def test_book_panel_shows_the_stats_and_flags_data_problems(qtbot: QtBot) -> None:
    panel = BookPanel()
    qtbot.addWidget(panel)
    panel.show()
    frame = make_frame(levels([100.0, 99.5], [2.0, 1.0]), levels([100.5], [6.0]), tick=0.5)
    frame.stats.imbalance = 0.25
    frame.stats.crossed_removals = 0
    frame.stats.resnapshots = 2
    panel.apply_frame(frame)
    assert panel.text("best_bid") == "100.0"
    assert panel.text("best_ask") == "100.5"
    assert panel.text("spread").startswith("0.5  (1 t)")
    assert panel.text("imbalance") == "+0.250"
    assert panel.text("levels") == "2 / 1"
    assert panel.text("resnapshots") == "2"
    assert panel.values["resnapshots"].property("warn") is True
    assert panel.values["crossed"].property("warn") is False
    assert panel.imbalance_bar.value == 0.25


def test_book_panel_names_what_it_counts(qtbot: QtBot) -> None:
    """Nothing checks sequence numbers (Tardis files carry none): no "Sequence gaps" label."""
    panel = BookPanel()
    qtbot.addWidget(panel)
    titles = dict(BookPanel.FIELDS)
    assert "Sequence gaps" not in titles.values()
    assert titles["resnapshots"] == "Re-snapshots"
    tip = BookPanel.TOOLTIPS["resnapshots"]
    assert "cleared and rebuilt" in tip
    assert "not checked" in tip  # says plainly that no sequence check is made
    assert "first snapshot" in BookPanel.TOOLTIPS["skipped"]


def test_hidden_book_panel_catches_up_when_shown(qtbot: QtBot) -> None:
    panel = BookPanel()
    qtbot.addWidget(panel)
    panel.apply_frame(make_frame(levels([100.0], [2.0]), levels([100.5], [6.0]), tick=0.5))
    panel.apply_frame(make_frame(levels([101.0], [2.0]), levels([101.5], [6.0]), tick=0.5))
    assert panel.text("best_bid") == "—"  # behind another tab: nothing laid out or painted
    panel.show()
    assert panel.text("best_bid") == "101.0"  # the latest frame, once visible


def test_log_panel_filters_by_level(qtbot: QtBot) -> None:
    panel = LogPanel()
    qtbot.addWidget(panel)
    panel.append_record(logging.DEBUG, "debug detail")
    panel.append_record(logging.INFO, "opened file")
    panel.append_record(logging.ERROR, "bad row")
    text = panel.text.toPlainText()
    assert "opened file" in text
    assert "debug detail" not in text
    assert panel.errors == 1
    panel.level.setCurrentIndex(0)  # Debug
    assert "debug detail" in panel.text.toPlainText()
    panel.level.setCurrentIndex(3)  # Error
    assert panel.text.toPlainText().strip() == "bad row"
    panel.clear()
    assert panel.messages() == []


def test_log_handler_survives_its_panel_being_deleted(qtbot: QtBot) -> None:
    panel = LogPanel()
    handler = QtLogHandler()
    handler.connect_to(panel)
    logger = logging.getLogger("replayterm.test.handler")
    logger.addHandler(handler)
    try:
        logger.error("to the panel")
        qtbot.waitUntil(lambda: any("to the panel" in m for m in panel.messages()), timeout=1000)
        panel.deleteLater()
        handler.bridge.deleteLater()
        qtbot.wait(10)
        logger.error("nobody listens")  # must not raise
    finally:
        logger.removeHandler(handler)


def test_sys_excepthook_reports_gui_thread_errors(qtbot: QtBot) -> None:
    reporter = ExceptionReporter()
    caught: list[tuple[str, str, str]] = []
    reporter.caught.connect(lambda *a: caught.append(a))
    restore = reporter.install()
    try:
        assert sys.excepthook != sys.__excepthook__
        try:
            raise KeyError("missing column")
        except KeyError:
            sys.excepthook(*sys.exc_info())  # what Python does with an uncaught exception
    finally:
        restore()
    assert caught[0][0] == "Unexpected error"
    assert "missing column" in caught[0][1]
    assert "Traceback" in caught[0][2]


def test_paint_guard_logs_once_and_keeps_painting(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(QWidget):
        calls = 0

        @paint_guard
        def paint_into(self, painter: QPainter) -> None:
            Broken.calls += 1
            raise ZeroDivisionError("bad scale")

    img = QImage(4, 4, QImage.Format.Format_ARGB32)
    painter = QPainter(img)
    widget = Broken()
    with caplog.at_level(logging.ERROR):
        widget.paint_into(painter)
        widget.paint_into(painter)
    painter.end()
    assert Broken.calls == 2
    assert sum("bad scale" in r.getMessage() or "paint_into" in r.getMessage() for r in caplog.records) == 1
