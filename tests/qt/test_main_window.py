from __future__ import annotations

import logging
import math
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from pytestqt.qtbot import QtBot
from qt_frames import BookWalk

from replayterm.qt.main_window import MainWindow
from replayterm.qt.settings import open_settings, recent_files
from replayterm.qt.widgets.help_dialogs import shortcut_table


@pytest.fixture
def window(qtbot: QtBot, settings: QSettings) -> MainWindow:
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def _feed(window: MainWindow, walk: BookWalk, n: int, first_reset: bool = True) -> None:
    for i in range(n):
        window.show_frame(walk.step(reset=first_reset and i == 0))
    window.sink.flush()


def test_frames_reach_every_view(window: MainWindow) -> None:
    walk = BookWalk(seed=2)
    _feed(window, walk, 12)
    assert window.windowTitle().startswith("BTCUSDT")
    assert any(b or a for _, b, a in window.ladder.model.levels())
    assert window.tape.model.rowCount() > 0
    assert len(window.charts.series) == 12 * 4  # every series sample of the coalesced frames
    assert window.heatmap.columns_written == 1  # twelve frames coalesced into one render
    assert window.book.text("symbol") == "BTCUSDT"
    assert window.transport.act_play.isEnabled()
    assert window.sink.frames_rendered == 1


def test_window_signals_for_the_worker(window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    _feed(window, BookWalk(seed=3), 2)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    assert window.transport.playing  # the frames say the replay runs
    with qtbot.waitSignal(window.pause, timeout=1000):
        qtbot.keyClick(window, Qt.Key.Key_Space)
    with qtbot.waitSignal(window.play, timeout=1000):
        qtbot.keyClick(window, Qt.Key.Key_Space)
    with qtbot.waitSignal(window.speed_changed, timeout=1000) as speed:
        qtbot.keyClick(window, Qt.Key.Key_Plus)
    assert speed.args == [2.0]
    with qtbot.waitSignal(window.step_message, timeout=1000):
        qtbot.keyClick(window, Qt.Key.Key_Right)
    with qtbot.waitSignal(window.step_trade, timeout=1000):
        qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    with qtbot.waitSignal(window.seek_requested, timeout=1000) as seek:
        window.transport.act_start.trigger()
    assert seek.args == [window.transport.slider.span()[0]]
    window.transport.set_speed(math.inf)
    assert window.transport.current_speed == math.inf


def test_open_requests_drop_progress_and_recent_files(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    a, b = tmp_path / "book.csv.gz", tmp_path / "trades.csv"
    a.write_bytes(b"")
    b.write_bytes(b"")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(a)), QUrl.fromLocalFile(str(b))])
    drop = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.open_requested, timeout=1000) as req:
        window.dropEvent(drop)
    assert req.args == [[str(a), str(b)]]
    window.set_progress(0.5, "Indexing")
    assert window.progress.isVisible()
    assert window.act_cancel_open.isEnabled()
    with qtbot.waitSignal(window.cancel_open, timeout=1000):
        window.act_cancel_open.trigger()
    window.open_finished()
    assert not window.progress.isVisible()
    assert recent_files(window.settings) == [str(a), str(b)]
    window.recent_menu.aboutToShow.emit()
    texts = [act.text() for act in window.recent_menu.actions()]
    assert any("book.csv.gz" in t for t in texts)


def test_bad_open_shows_error_keeps_what_was_open(window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    walk = BookWalk(seed=4)
    _feed(window, walk, 3)
    rows_before = window.tape.model.rowCount()
    window.request_open([str(tmp_path / "missing.csv")])
    assert window.error_dialog.isVisible()
    assert "missing.csv" in window.error_dialog.text()
    window.set_progress(float("nan"), "Reading")
    window.open_failed("bad.csv line 3: column 'price' is not a number")
    assert not window.progress.isVisible()
    assert "bad.csv line 3" in window.error_dialog.text()
    assert "earlier error" in window.error_dialog.text()  # one dialog, errors counted
    qtbot.waitUntil(lambda: any("bad.csv line 3" in m for m in window.log_panel.messages()), timeout=1000)
    assert window.tape.model.rowCount() == rows_before  # what was open is still there
    _feed(window, walk, 2, first_reset=False)  # and the app keeps rendering
    assert window.tape.model.rowCount() > rows_before


def test_log_records_from_another_thread_reach_the_panel(window: MainWindow, qtbot: QtBot) -> None:
    logger = logging.getLogger("replayterm.test")
    thread = threading.Thread(target=lambda: logger.warning("from the replay thread"), name="replay")
    thread.start()
    thread.join()
    qtbot.waitUntil(
        lambda: any("from the replay thread" in m for m in window.log_panel.messages()), timeout=1000
    )


def test_uncaught_exceptions_become_a_dialog(window: MainWindow, qtbot: QtBot) -> None:
    restore = window.exceptions.install()
    try:

        def fail() -> None:
            raise RuntimeError("worker exploded")

        thread = threading.Thread(target=fail, name="replay")
        thread.start()
        thread.join()
        qtbot.waitUntil(window.error_dialog.isVisible, timeout=1000)
        assert "worker exploded" in window.error_dialog.text()
        assert "thread replay" in window.error_dialog.windowTitle()
    finally:
        restore()


def test_layout_and_view_settings_round_trip(qtbot: QtBot, settings: QSettings, settings_path: Path) -> None:
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.resize(780, 560)  # fits the offscreen screen, so the window manager does not clamp it
    w.docks["log"].hide()
    w.ladder.act_coarser.trigger()
    w.tape.min_size.setValue(2.5)
    w.charts.window_box.setCurrentIndex(w.charts.window_box.findText("5 min"))
    w.transport.step_speed(+2)
    w.close()
    assert w.settings.value("window/geometry") is not None

    w2 = MainWindow(settings=open_settings(settings_path))
    qtbot.addWidget(w2)
    w2.show()
    qtbot.waitExposed(w2)
    assert w2.size() == w.size()
    assert w2.docks["log"].isHidden()
    assert w2.ladder.model.grouping == 2
    assert w2.tape.model.min_size == 2.5
    assert w2.charts.window_box.currentText() == "5 min"
    assert w2.transport.current_speed == 5.0
    w2.reset_layout()
    assert not w2.docks["log"].isHidden()


def test_every_menu_action_has_a_keyboard_route(window: MainWindow) -> None:
    shortcuts = dict(shortcut_table(window))
    for name in ("Open…", "Quit", "Play / Pause", "Go to Time…", "Follow Cursor", "Depth Ladder", "Log"):
        assert name in shortcuts, name
    keys = [k for _, k in shortcut_table(window)]
    assert len(keys) == len(set(keys)), "two actions share a shortcut"
    for menu_action in window.menuBar().actions():
        assert "&" in menu_action.text()  # Alt+letter opens every menu


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the only QDragEnterEvent constructor
def test_drag_enter_accepts_local_files(window: MainWindow) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile("/tmp/x.csv")])
    ev = QDragEnterEvent(
        QPoint(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dragEnterEvent(ev)
    assert ev.isAccepted()
    mime.setUrls([QUrl("https://example.com/x.csv")])
    ev = QDragEnterEvent(
        QPoint(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    ev.ignore()
    window.dragEnterEvent(ev)
    assert not ev.isAccepted()


def test_coarser_grouping_asks_the_worker_for_deeper_frames(window: MainWindow, qtbot: QtBot) -> None:
    reaches: list[int] = []
    window.depth_reach_changed.connect(reaches.append)
    coarsest = window.ladder.grouping.count() - 1
    with qtbot.waitSignal(window.depth_reach_changed, timeout=1000):
        window.ladder.grouping.setCurrentIndex(coarsest)
    rows = window.ladder.model.rowCount()
    assert reaches[-1] >= 100 * rows  # every ladder row's bucket, however deep
    window.heatmap.grouping_box.setCurrentIndex(window.heatmap.grouping_box.count() - 1)
    assert reaches[-1] >= 100 * (window.heatmap.rows // 2)


def test_default_layout_gives_the_heatmap_room_at_1080p(qtbot: QtBot, settings: QSettings) -> None:
    """The heatmap's plot area was about 40 px tall in the default layout at 1920x1080."""
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(1920, 1080)
    w.show()
    qtbot.waitExposed(w)
    walk = BookWalk(seed=1)
    for i in range(30):
        w.show_frame(walk.step(dt_us=250_000, reset=i == 0))
        w.sink.flush()
    view = w.heatmap.plot.getPlotItem().getViewBox()
    qtbot.waitUntil(lambda: view.height() >= 150)
    assert w.charts.glw.height() >= 250  # the chart keeps most of its room


# -- issue 19: the app after an error ------------------------------------------------------------
def test_a_failed_open_does_not_touch_the_server_and_says_so_in_the_status(
    window: MainWindow, tmp_path: Path
) -> None:
    """The server was handed the requested files before the open succeeded, so a bad file
    stopped it and every later File ▸ Serve failed (item 2); "Opening x…" stayed (item 4)."""
    good = [str(tmp_path / "good.csv")]
    window._opening = good
    window.open_finished()
    assert window.serve_host.paths == good
    bad = tmp_path / "random.bin"
    bad.write_bytes(b"\x00\x01")
    window.request_open([str(bad)])
    assert "Opening random.bin" in window.status_label.text()
    window.open_failed(f"{bad}: unknown header")
    assert window.serve_host.paths == good  # still what is open
    assert "Opening" not in window.status_label.text()
    assert "Could not open random.bin" in window.status_label.text()


def test_opening_a_folder_says_it_is_a_folder(window: MainWindow, qtbot: QtBot, tmp_path: Path) -> None:
    """A folder was "File not found" in the app (item 4): it goes to the reader, which says what
    it is (a tardis-dev cache folder opens; any other folder is named as a folder)."""
    from replayterm.core.data import DataError, open_sources

    with qtbot.waitSignal(window.open_requested, timeout=1000) as sent:
        window.request_open([str(tmp_path)])
    assert sent.args == [[str(tmp_path)]]
    assert "not found" not in window.error_dialog.text().lower()
    with pytest.raises(DataError, match="folder"):
        open_sources([tmp_path])


def test_the_log_follows_new_lines(qtbot: QtBot) -> None:
    """Once the log is full (each new line drops the oldest), it stopped following (item 4)."""
    from PySide6.QtWidgets import QApplication

    from replayterm.qt.views.log_panel import MAX_RECORDS, LogPanel

    panel = LogPanel()
    qtbot.addWidget(panel)
    panel.resize(400, 150)
    panel.show()
    bar = panel.text.verticalScrollBar()
    for i in range(MAX_RECORDS + 50):
        panel.append_record(logging.INFO, f"line {i}")
        if i % 100 == 0:
            QApplication.processEvents()
    panel.hide()  # lines arrive while the dock is closed...
    for i in range(100):
        panel.append_record(logging.WARNING, f"later {i}")
    panel.show()  # ...and it opens on the newest one
    QApplication.processEvents()
    assert bar.maximum() > 0
    assert bar.value() == bar.maximum()
    bar.setValue(0)  # the user scrolls up to read: new lines do not pull the view away
    panel.append_record(logging.INFO, "one more")
    assert bar.value() == 0
    panel.level.setCurrentIndex(0)  # a new level filter refills it: at the newest again
    QApplication.processEvents()
    assert bar.value() == bar.maximum()


def test_transport_keys_work_whatever_widget_has_focus(window: MainWindow, qtbot: QtBot) -> None:
    """After a dialog closed (no window manager), Space opened the ladder's Group drop-down and
    +/- did nothing until a click (item 4). Text fields keep their keys."""
    from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

    _feed(window, BookWalk(seed=3), 2)
    elsewhere = QWidget()  # the main window is not the active one (as after a dialog, no WM)
    qtbot.addWidget(elsewhere)
    elsewhere.show()
    elsewhere.activateWindow()
    qtbot.waitUntil(lambda: not window.isActiveWindow())
    group = window.ladder.findChild(QComboBox)
    assert group is not None
    group.setFocus()
    with qtbot.waitSignal(window.pause, timeout=1000):
        qtbot.keyClick(group, Qt.Key.Key_Space)
    assert group.view().isVisible() is False
    with qtbot.waitSignal(window.speed_changed, timeout=1000):
        qtbot.keyClick(group, Qt.Key.Key_Plus)
    edit = QLineEdit(window)
    edit.show()
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_Space)
    qtbot.keyClick(edit, Qt.Key.Key_Minus)
    assert edit.text() == " -"


def test_file_serve_shows_whether_the_server_runs(window: MainWindow) -> None:
    """File ▸ Serve showed no running state (issue 19, item 13)."""
    act = window.act_serve
    assert act.isCheckable()
    assert not act.isChecked()
    window.serve_host.server = object()  # type: ignore[assignment]  # as once started
    window.serve_host.state_changed.emit("serving  http://127.0.0.1:8000  ws://127.0.0.1:8001")
    assert act.isChecked()
    assert "Stop Serving" in act.text().replace("&", "")
    assert "127.0.0.1:8000" in act.text()
    window.serve_host.server = None
    window.serve_host.state_changed.emit("")
    assert not act.isChecked()
    assert act.text().replace("&", "").startswith("Serve")


def test_open_recent_lists_the_sets_opened_together_with_their_folders(
    window: MainWindow, tmp_path: Path
) -> None:
    """Open Recent listed single files: two identical names from different folders, no path
    (issue 19, item 13)."""
    from replayterm.qt.settings import add_recent_files

    sets = []
    for day in ("a", "b"):
        folder = tmp_path / day
        folder.mkdir()
        files = [folder / "book.csv.gz", folder / "trades.csv.gz"]
        for f in files:
            f.write_bytes(b"x")
        sets.append([str(f) for f in files])
        add_recent_files(window.settings, sets[-1])
    menu = window.recent_menu
    menu.refresh()
    entries = [a for a in menu.actions() if a.text().startswith("&")][:2]
    texts = [a.text() for a in entries]
    assert "book.csv.gz + trades.csv.gz" in texts[0]
    assert str(tmp_path / "b") in texts[0]  # newest first, with its folder
    assert str(tmp_path / "a") in texts[1]
    opened: list[list[str]] = []
    menu._open = opened.append
    entries[1].trigger()
    assert opened == [sets[0]]  # the whole set opens again


def test_the_open_dialog_is_wide_enough_to_tell_the_files_apart(window: MainWindow) -> None:
    """The open dialog was too narrow to tell the 12 shared files apart (issue 19, item 13)."""
    from PySide6.QtGui import QFontMetrics

    dialog = window.make_open_dialog(str(Path.home()))
    longest = "binance-futures_book_ticker_update_ids_2024-07-18_BTCUSDT.csv.gz"
    assert dialog.width() >= QFontMetrics(dialog.font()).horizontalAdvance(longest) + 400
    assert dialog.fileMode() == dialog.FileMode.ExistingFiles
    dialog.deleteLater()
