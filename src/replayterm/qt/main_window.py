"""Main window: composition of the views, docks, menus and actions.

Wiring contract with the replay worker (all connections queued across threads):
  signals out  open_requested(list[str]), play(), pause(), seek_requested(int µs),
               speed_changed(float, math.inf = Max), step_message(), step_trade(), cancel_open(),
               closing()
  slots in     show_frame(Frame), show_error(str, str), set_progress(float, str),
               open_finished(), open_failed(str), open_cancelled(), set_gaps(list[int])
  strategies   ``self.strategies`` (StrategyUI) has its own request signals and answer slots
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QToolBar,
    QWidget,
)

from replayterm.core.data.postgres import DatabaseQuery, is_database_url
from replayterm.core.data.postgres.query import redact
from replayterm.core.frames import Frame
from replayterm.qt import settings as st
from replayterm.qt.excepthooks import ExceptionReporter
from replayterm.qt.execution.ui import ExecutionUI
from replayterm.qt.flow.bubbles import TradeBubbles
from replayterm.qt.flow.chart_candles import ChartCandles
from replayterm.qt.flow.crosshair import SharedCrosshair
from replayterm.qt.flow.heatmap_orders import HeatmapOwnOrders
from replayterm.qt.flow.ladder_columns import LadderFlowColumns
from replayterm.qt.flow.view import OrderFlowView
from replayterm.qt.frame_sink import FrameSink
from replayterm.qt.orders import OrdersUI
from replayterm.qt.serve_host import ServeHost
from replayterm.qt.strategy.ui import StrategyUI
from replayterm.qt.sweep.launcher import SweepLauncher
from replayterm.qt.trading.panel import ManualTradingPanel
from replayterm.qt.views.book_panel import BookPanel
from replayterm.qt.views.charts import ChartsView
from replayterm.qt.views.clients_panel import ClientsPanel
from replayterm.qt.views.heatmap import HeatmapView
from replayterm.qt.views.ladder_view import LadderView
from replayterm.qt.views.liquidation_overlay import LiquidationOverlay
from replayterm.qt.views.log_panel import LogPanel, QtLogHandler
from replayterm.qt.views.second_ladder import SecondLadder
from replayterm.qt.views.tape_view import TapeView
from replayterm.qt.views.ticker_chart import TickerChartView
from replayterm.qt.widgets import cache_dialog, export_image, help_dialogs
from replayterm.qt.widgets.bookmarks import Bookmarks
from replayterm.qt.widgets.database_dialog import OpenDatabaseDialog
from replayterm.qt.widgets.error_dialog import ErrorDialog
from replayterm.qt.widgets.open_progress import OpenProgress
from replayterm.qt.widgets.recent_menu import RecentFilesMenu
from replayterm.qt.widgets.transport import TransportBar
from replayterm.qt.widgets.transport_keys import TransportKeys

log = logging.getLogger(__name__)

STATE_VERSION = 1
FILE_FILTER = (
    "Market data (*.csv *.csv.gz *.gz *.parquet *.arrow *.feather *.ipc *.dbn *.dbn.zst *.zst);;"
    "Raw recordings (*.gz *.jsonl.zst);;All files (*)"
)


SERVE_TEXT = "&Serve (tardis-machine API)"


class MainWindow(QMainWindow):
    open_requested = Signal(list)
    play = Signal()
    pause = Signal()
    seek_requested = Signal("qint64")  # type: ignore[arg-type]
    speed_changed = Signal(float)
    step_message = Signal()
    step_trade = Signal()
    cancel_open = Signal()
    closing = Signal()  # the window is closing: stop the replay thread
    carry_answer = Signal(bool)  # carry the loaded strategies to the data just opened (see ask_carry)
    depth_reach_changed = Signal(int)  # ticks from the touch the views need frames to cover
    focus_requested = Signal(int)  # show this instrument in the ladder, tape and charts
    second_requested = Signal(int)  # the second ladder's instrument (-1: closed)

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings if settings is not None else st.open_settings()
        self.setWindowTitle("ReplayTerm")
        self.setObjectName("mainWindow")
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)
        self.setDockOptions(self.dockOptions() | QMainWindow.DockOption.AllowTabbedDocks)
        self._opening: list[str] = []
        self.data_files: list[str] = []  # the files of the replay that is open
        self._symbol = ""

        self.transport = TransportBar(self)
        self.ladder = LadderView(self)
        self.tape = TapeView(self)
        self.charts = ChartsView(self)
        self.flow = OrderFlowView(self)
        self.heatmap = HeatmapView(self)
        self.ticker = TickerChartView(self)
        self.second_ladder = SecondLadder(self)
        self.liquidations = LiquidationOverlay(self.charts.price_plot)
        self.bubbles = TradeBubbles(self.heatmap)
        self.heatmap_orders = HeatmapOwnOrders(self.heatmap)
        self.chart_candles = ChartCandles(self.charts, self.flow)
        self.manual = ManualTradingPanel(self.ladder, self)
        self.ladder_flow = LadderFlowColumns(self.ladder, self.flow)
        self.bookmarks = Bookmarks(self.transport.slider, self.settings, self)
        self.crosshair_label = QLabel("", self)
        self.crosshair_label.setObjectName("dimLabel")
        self.crosshair = SharedCrosshair(
            self.charts, self.flow, self.heatmap, self.ladder_flow, self.crosshair_label
        )
        self.instrument_box = QComboBox(self)
        self.instrument_box.setObjectName("instrumentSelector")
        self.instrument_box.setToolTip("Instrument shown in the ladder, tape, charts and book panel")
        self.instrument_box.setMinimumContentsLength(14)
        self.instrument_box.currentIndexChanged.connect(self._on_instrument_chosen)
        self.book = BookPanel(self)
        self.log_panel = LogPanel(self)
        self.error_dialog = ErrorDialog(self)
        self.progress = OpenProgress(self)
        self.strategies = StrategyUI(self.settings, self.charts, self)
        self.orders = OrdersUI(self.charts.price_plot, self)
        self.strategies.fills_view.table.clicked.connect(
            lambda index: self.orders.on_fill_clicked(self.strategies.fills, index)
        )
        self.strategies.panel.table.selectionModel().currentRowChanged.connect(
            lambda *_: self.orders.set_strategy(self.strategies.panel.selected_id())
        )
        self.execution = ExecutionUI(self.settings, self)
        self.serve_host = ServeHost(self)
        self.clients = ClientsPanel(self.serve_host, self)

        self.sink = FrameSink(self)
        for view in (self.transport, self.ladder, self.tape, self.charts, self.heatmap, self.book, self.flow):
            self.sink.add_consumer(view.apply_frame)
        for consumer in (
            self.ticker.apply_frame,
            self.second_ladder.apply_frame,
            self.liquidations.apply_frame,
            self.bubbles.apply_frame,
            self.heatmap_orders.apply_frame,
            self.chart_candles.apply_frame,
            self.manual.apply_frame,
            self.ladder_flow.apply_frame,
            self.bookmarks.apply_frame,
        ):
            self.sink.add_consumer(consumer)
        self.tape.liq_min_size.valueChanged.connect(self.liquidations.set_min_size)
        self.second_ladder.instrument_chosen.connect(self._on_second_chosen)
        self.sink.add_consumer(self.strategies.apply_frame)
        self.sink.add_consumer(self._on_frame)
        self.sink.add_consumer(self.serve_host.apply_frame)
        self.serve_host.failed.connect(self.show_error)
        self.sink.consumer_failed.connect(self.show_error)

        self._log_handler = QtLogHandler()
        self._log_handler.connect_to(self.log_panel)
        logging.getLogger().addHandler(self._log_handler)
        self.exceptions = ExceptionReporter(self)
        self.exceptions.caught.connect(self._show_exception)

        self._forward_commands()
        t = self.transport
        self.transport_keys = TransportKeys(
            self,
            {
                Qt.Key.Key_Space: t.act_play,
                Qt.Key.Key_Plus: t.act_faster,
                Qt.Key.Key_Equal: t.act_faster,
                Qt.Key.Key_Minus: t.act_slower,
                Qt.Key.Key_Underscore: t.act_slower,
            },
        )
        self._depth_reach = -1
        self.ladder.grouping.currentIndexChanged.connect(self._update_depth_reach)
        self.ladder.model.modelReset.connect(self._update_depth_reach)
        self.heatmap.grouping_box.currentIndexChanged.connect(self._update_depth_reach)
        self._build_docks()
        self._build_menus()
        self._build_status_bar()
        self._default_state = QByteArray()
        self._arranged = False
        self._restore_settings()

    # ---- composition -------------------------------------------------------------------------
    def _forward_commands(self) -> None:
        t = self.transport
        for src, dst in (
            (t.play, self.play),
            (t.pause, self.pause),
            (t.seek_requested, self.seek_requested),
            (t.speed_changed, self.speed_changed),
            (t.step_message, self.step_message),
            (t.step_trade, self.step_trade),
            (self.charts.seek_requested, self.seek_requested),
            (self.flow.seek_requested, self.seek_requested),
            (self.bookmarks.seek_requested, self.seek_requested),
            (self.progress.cancel_clicked, self.cancel_open),
            (self.strategies.seek_requested, self.seek_requested),
            (self.strategies.error, self.show_error),
            (self.strategies.status, self.status_label_text),
            (self.strategies.busy_changed, self._on_strategy_busy),
            (self.execution.status, self.status_label_text),
        ):
            src.connect(dst)
        for command in (self.play, self.pause, self.seek_requested, self.step_message, self.step_trade):
            command.connect(self.strategies.command_sent)

    def _dock(self, title: str, name: str, widget: QWidget, key: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock.{name}")
        dock.setWidget(widget)
        dock.toggleViewAction().setShortcut(QKeySequence(key))
        return dock

    def _build_docks(self) -> None:
        bar = QToolBar("Transport", self)
        bar.setObjectName("toolbar.transport")
        bar.setMovable(False)
        bar.addWidget(self.transport)
        self.instrument_action = bar.addWidget(self.instrument_box)
        self.instrument_action.setVisible(False)  # shown when more than one instrument is open
        self.transport_bar = bar
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        d = self.docks = {
            "ladder": self._dock("Depth Ladder", "ladder", self.ladder, "Ctrl+1"),
            "charts": self._dock("Chart", "charts", self.charts, "Ctrl+2"),
            "heatmap": self._dock("Liquidity Heatmap", "heatmap", self.heatmap, "Ctrl+3"),
            "tape": self._dock("Time && Sales", "tape", self.tape, "Ctrl+4"),
            "book": self._dock("Book", "book", self.book, "Ctrl+5"),
            "log": self._dock("Log", "log", self.log_panel, "Ctrl+6"),
            "strategies": self._dock("Strategies", "strategies", self.strategies.panel, "Ctrl+7"),
            "pnl": self._dock("Strategy PnL", "pnl", self.strategies.pnl, "Ctrl+8"),
            "fills": self._dock("Fills", "fills", self.strategies.fills_view, "Ctrl+9"),
            "signals": self._dock("Signals", "signals", self.strategies.signals_view, "Ctrl+0"),
            "ticker": self._dock("Derivative Ticker", "ticker", self.ticker, "Ctrl+Shift+2"),
            "ladder2": self._dock("Second Ladder", "ladder2", self.second_ladder, "Ctrl+Shift+1"),
            "clients": self._dock("Clients", "clients", self.clients, "Ctrl+Shift+K"),
            "flow": self._dock("Order Flow", "flow", self.flow, "Ctrl+Shift+3"),
            "orders": self._dock("Orders", "orders", self.orders.inspector, "Ctrl+Shift+I"),
            "manual": self._dock("Manual Trading", "manual", self.manual, "Ctrl+Shift+T"),
        }
        h, v = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, d["ladder"])
        self.splitDockWidget(d["ladder"], d["charts"], h)
        self.splitDockWidget(d["charts"], d["tape"], h)
        self.splitDockWidget(d["charts"], d["heatmap"], v)
        self.splitDockWidget(d["tape"], d["book"], v)
        self.splitDockWidget(d["heatmap"], d["log"], v)
        self.splitDockWidget(d["charts"], d["pnl"], v)
        self.splitDockWidget(d["tape"], d["strategies"], v)
        self.tabifyDockWidget(d["log"], d["fills"])
        self.tabifyDockWidget(d["log"], d["signals"])
        self.splitDockWidget(d["heatmap"], d["ticker"], h)
        self.splitDockWidget(d["ladder"], d["ladder2"], h)
        d["ladder2"].hide()  # opened from View ▸ Second Ladder
        d["ladder2"].visibilityChanged.connect(self._on_second_visibility)
        self.tabifyDockWidget(d["log"], d["clients"])
        self.splitDockWidget(d["charts"], d["flow"], v)
        self.splitDockWidget(d["ladder"], d["manual"], v)
        d["manual"].hide()  # View ▸ Manual Trading (Ctrl+Shift+T)
        d["flow"].hide()  # until it shares a tab group with the chart (see _arrange_tabs)
        self.tabifyDockWidget(d["log"], d["orders"])
        d["orders"].visibilityChanged.connect(self.orders.on_visibility)
        d["strategies"].hide()  # until it shares a tab group with the book (see _arrange_tabs)
        d["ticker"].hide()  # until it shares a tab group with the heatmap (see _arrange_tabs)

    def _arrange_tabs(self) -> None:
        """The second tab group and the sizes of the default layout. Run once the window is
        shown: a second tab group made while the window is hidden leaves a stray, visible tab
        bar behind (Qt 6), and so does restoring such a layout then."""
        d = self.docks
        h, v = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
        d["strategies"].show()
        self.tabifyDockWidget(d["strategies"], d["book"])
        d["ticker"].show()
        self.tabifyDockWidget(d["heatmap"], d["ticker"])
        d["flow"].show()
        self.tabifyDockWidget(d["charts"], d["flow"])
        d["heatmap"].raise_()
        d["charts"].raise_()
        d["strategies"].raise_()
        d["log"].raise_()
        self.resizeDocks([d["ladder"], d["charts"], d["tape"]], [320, 940, 370], h)
        self.resizeDocks([d["charts"], d["pnl"], d["heatmap"], d["log"]], [360, 180, 300, 110], v)
        self.resizeDocks([d["tape"], d["strategies"]], [400, 480], v)

    def _menu_action(
        self, menu: QMenu, text: str, key: str | QKeySequence.StandardKey, slot: object
    ) -> QAction:
        act = menu.addAction(text)
        act.setShortcut(QKeySequence(key))
        act.triggered.connect(slot)
        return act

    def _build_menus(self) -> None:
        mb = self.menuBar()
        file = mb.addMenu("&File")
        self._menu_action(file, "&Open…", QKeySequence.StandardKey.Open, self.open_dialog)
        self._menu_action(file, "Open &Database…", "Ctrl+Shift+O", self.open_database_dialog)
        self.recent_menu = RecentFilesMenu(self.settings, self.request_open, self)
        file.addMenu(self.recent_menu)
        file.addSeparator()
        self.act_cancel_open = self._menu_action(file, "&Cancel Open or Run", "Esc", self._cancel_open)
        self.act_cancel_open.setEnabled(False)
        file.addSeparator()
        cache_dialog.apply_saved_cap(self.settings)
        self._menu_action(file, "Ca&che…", "", lambda: cache_dialog.CacheDialog(self.settings, self).exec())
        images = file.addMenu("Export &Image")
        for label, name, widget in (
            ("&Order Flow…", "Order Flow", self.flow),
            ("&Chart…", "Chart", self.charts),
            ("&Heatmap…", "Heatmap", self.heatmap),
            ("&Whole Window…", "ReplayTerm", self),
        ):
            image_action = images.addAction(label)
            image_action.triggered.connect(
                lambda _=False, n=name, w=widget: export_image.export_dialog(self, w, n)
            )
        self.act_serve = self._menu_action(file, SERVE_TEXT, "Ctrl+Shift+S", self._toggle_serve)
        self.act_serve.setCheckable(True)
        self.serve_host.state_changed.connect(self._on_serve_state)
        file.addSeparator()
        self._menu_action(file, "&Quit", "Ctrl+Q", self.close)

        playback = mb.addMenu("&Playback")
        for act in self.transport.actions_for_menu():
            playback.addAction(act) if act is not None else playback.addSeparator()
        playback.addSeparator()
        for act in self.bookmarks.actions():
            playback.addAction(act) if act is not None else playback.addSeparator()

        view = mb.addMenu("&View")
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        act = self.transport_bar.toggleViewAction()
        act.setText("&Transport Bar")
        view.addAction(act)
        view.addSeparator()
        for act in self.ladder.actions_for_menu():
            view.addAction(act)
        view.addSeparator()
        for act in self.charts.actions_for_menu():
            view.addAction(act)
        view.addAction(self.chart_candles.act)
        view.addAction(self.crosshair.act)
        view.addSeparator()
        self._menu_action(view, "Reset &Layout", "Ctrl+Shift+R", self.reset_layout)
        layouts = view.addMenu("La&yout")
        self._menu_action(layouts, "&Default", "", self.reset_layout)
        self._menu_action(layouts, "&Order Flow", "Ctrl+Shift+O", self.order_flow_layout)
        self.act_full_screen = self._menu_action(view, "&Full Screen", "F11", self._toggle_full_screen)

        strategy = mb.addMenu("&Strategy")
        self.strategies.fill_menu(strategy)
        strategy.addSeparator()
        strategy.addAction(self.execution.act_settings)
        strategy.addAction(self.execution.act_copy)
        strategy.addAction(self.execution.act_export)
        self.sweep = SweepLauncher(
            lambda: list(self.data_files),
            self._strategy_files,
            self,
            settings=lambda: self.execution.settings,  # a sweep runs with the app's execution settings
        )
        self.sweep.open_requested.connect(self.request_open)
        self.sweep.load_strategy.connect(self.strategies.load)
        self.sweep.seek_requested.connect(self.seek_requested)
        self.sweep.play.connect(self.play)
        strategy.addSeparator()
        strategy.addAction(self.sweep.action)

        help_menu = mb.addMenu("&Help")
        self._menu_action(help_menu, "&Keyboard Shortcuts", "F1", lambda: help_dialogs.show_shortcuts(self))
        self._menu_action(help_menu, "&About ReplayTerm", "", lambda: help_dialogs.show_about(self))
        # Window-wide: also available while the menu bar or a toolbar is hidden.
        for menu in (file, playback, view, strategy, help_menu):
            self.addActions(menu.actions())

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        sb.setSizeGripEnabled(False)
        self.status_label = QLabel("Ready. Open market data with Ctrl+O or drop files here.", self)
        self.render_label = QLabel("", self)
        self.render_label.setObjectName("dimLabel")
        self.render_label.setToolTip("Time spent rendering the last frame in all views")
        sb.addWidget(self.status_label, 1)
        sb.addPermanentWidget(self.crosshair_label)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.strategies.busy)
        sb.addPermanentWidget(self.execution.label)
        sb.addPermanentWidget(self.render_label)
        self.sink.rendered.connect(self._on_rendered)

    def depth_reach(self) -> int:
        """Ticks from the touch that the ladder's and heatmap's buckets reach at their grouping."""
        ladder = self.ladder.model.grouping * self.ladder.model.rowCount()
        heatmap = self.heatmap.grouping * (self.heatmap.rows // 2)
        return max(ladder, heatmap)

    def _update_depth_reach(self) -> None:
        reach = self.depth_reach()
        if reach != self._depth_reach:
            self._depth_reach = reach
            self.depth_reach_changed.emit(reach)

    # ---- slots for the worker ----------------------------------------------------------------
    @Slot(object)
    def show_frame(self, frame: Frame) -> None:
        self.strategies.frame_arrived(frame)
        self.sink.push(frame)

    def _strategy_files(self) -> list[str]:
        """The loaded strategies (files and registered names), the enabled ones first."""
        infos = [i for i in self.strategies.store.infos() if i.spec]
        infos.sort(key=lambda i: i.status.value != "enabled")
        return list(dict.fromkeys(str(i.spec) for i in infos))

    def status_label_text(self, text: str) -> None:
        self.status_label.setText(text)

    def _on_strategy_busy(self, busy: bool) -> None:
        self.act_cancel_open.setEnabled(busy or self.progress.isVisible())

    @Slot(str, str)
    def show_error(self, title: str, text: str) -> None:
        log.error("%s: %s", title, text)
        self.error_dialog.report(title, text)

    @Slot(float, str)
    def set_progress(self, fraction: float, message: str) -> None:
        self.progress.set_progress(fraction, message)
        self.act_cancel_open.setEnabled(True)

    @Slot()
    def open_finished(self) -> None:
        self._end_open()
        if self._opening:
            self.data_files = list(self._opening)
            # The server serves what is open: handed the files only once they opened.
            self.serve_host.set_paths(self._opening)
            st.add_recent_files(self.settings, [p for p in self._opening if not is_database_url(p)])
            names = ", ".join(_shown_name(p) for p in self._opening)
            self.status_label.setText(f"Opened {names}")
            log.info("Opened %s", names)
        self._opening = []

    @Slot(str)
    def open_failed(self, text: str) -> None:
        self._end_open()
        names = ", ".join(os.path.basename(p) for p in self._opening)
        self._opening = []
        kept = (
            f"; still showing {', '.join(map(os.path.basename, self.data_files))}" if self.data_files else ""
        )
        self.status_label.setText(f"Could not open {names}{kept}" if names else "Could not open the files")
        self.show_error("Could not open", text)

    @Slot(list, list, list)
    def ask_carry(self, names: list[str], old: list[str], new: list[str]) -> None:
        """The data just opened lacks the instruments the loaded strategies ran on: ask before
        carrying them onto other symbols (answered with ``carry_answer``)."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Carry strategies to the new data?")
        box.setText(
            f"{', '.join(names)} ran on {', '.join(old)}; the data just opened has {', '.join(new)}.\n\n"
            "Load them on the new data, each in the state it had?"
        )
        carry = box.addButton("Carry Strategies", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Leave Them Out", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(carry)
        box.finished.connect(lambda _: self.carry_answer.emit(box.clickedButton() is carry))
        self._carry_box = box
        box.open()

    @Slot()
    def open_cancelled(self) -> None:
        self._end_open()
        self._opening = []
        self.status_label.setText("Open cancelled")
        log.info("Open cancelled")

    @Slot(list)
    def set_gaps(self, gaps_us: list[int]) -> None:
        self.transport.set_gaps(gaps_us)

    def set_instruments(self, names: list[str], focus: int) -> None:
        """After an open: the selector lists every instrument, the shown one selected."""
        box = self.instrument_box
        box.blockSignals(True)
        box.clear()
        box.addItems(names)
        box.setCurrentIndex(focus)
        box.blockSignals(False)
        self.instrument_action.setVisible(len(names) > 1)
        self.second_ladder.set_instruments(names, focus)
        self._on_second_visibility(self.docks["ladder2"].isVisible())

    def _on_instrument_chosen(self, index: int) -> None:
        if index >= 0:
            self.focus_requested.emit(index)

    def _on_second_chosen(self, index: int) -> None:
        if self.docks["ladder2"].isVisible():
            self.second_requested.emit(index)

    def _on_second_visibility(self, visible: bool) -> None:
        self.second_requested.emit(self.second_ladder.selector.currentIndex() if visible else -1)

    # ---- opening files -----------------------------------------------------------------------
    def request_open(self, paths: Sequence[str]) -> None:
        """Open files (and ``postgresql://…`` sources, see File ▸ Open Database)."""
        paths = [p if is_database_url(p) else os.path.abspath(p) for p in paths]
        # a folder is a tardis-dev cache (raw recordings); any other folder gets the reader's message
        missing = [p for p in paths if not (is_database_url(p) or os.path.isfile(p) or os.path.isdir(p))]
        if missing:
            self.show_error("File not found", "\n".join(missing))
        paths = [p for p in paths if p not in missing]
        if not paths:
            return
        self._opening = paths
        files = [p for p in paths if not is_database_url(p)]
        if files:
            self.settings.setValue("files/last_dir", os.path.dirname(files[0]))
        self.status_label.setText(f"Opening {', '.join(_shown_name(p) for p in paths)}…")
        self.open_requested.emit(paths)

    def make_open_dialog(self, start: str) -> QFileDialog:
        """File ▸ Open: wide enough for whole Tardis file names (they differ only at the end),
        in the detail view (size and date tell days and types apart too)."""
        dialog = QFileDialog(self, "Open Market Data", start, FILE_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setViewMode(QFileDialog.ViewMode.Detail)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        name = dialog.fontMetrics().horizontalAdvance(
            "binance-futures_book_ticker_update_ids_2024-07-18_BTCUSDT.csv.gz"
        )
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        width = name + 480  # the sidebar, size, type and date columns
        if screen is not None:
            width = min(width, int(screen.width() * 0.95))
        dialog.resize(max(width, 900), 600)
        return dialog

    def open_database_dialog(self) -> None:
        dialog = OpenDatabaseDialog(self.settings, self)
        if dialog.exec() and dialog.urls:
            self.request_open(dialog.urls)

    def open_dialog(self) -> None:
        start = str(self.settings.value("files/last_dir", os.path.expanduser("~")))
        dialog = self.make_open_dialog(start)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.selectedFiles():
            self.request_open(dialog.selectedFiles())
        dialog.deleteLater()
        self.activateWindow()  # back to the main window, for its keys (no window manager)

    def _on_serve_state(self, text: str) -> None:
        """File ▸ Serve shows whether the server runs, and where."""
        running = self.serve_host.running
        self.act_serve.setChecked(running)
        if running:
            where = text.removeprefix("serving").strip()
            self.act_serve.setText(f"Stop &Serving ({where})" if where else "Stop &Serving")
        elif text:  # starting or switching
            self.act_serve.setText(f"&Serve (tardis-machine API): {text}")
        else:
            self.act_serve.setText(SERVE_TEXT)
        if text:
            self.status_label.setText(f"Server: {text.strip()}")

    def _toggle_serve(self) -> None:
        if self.serve_host.running:
            self.serve_host.stop()
        else:
            self.docks["clients"].show()
            self.docks["clients"].raise_()
            self.serve_host.start(self.clients.port.value())

    def _cancel_open(self) -> None:
        if self.progress.isVisible():
            self.progress.cancel.click()
        else:
            self.strategies.busy.click_cancel()

    def _end_open(self) -> None:
        self.progress.finish()
        self.act_cancel_open.setEnabled(False)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        md = event.mimeData()
        if md.hasUrls() and any(u.isLocalFile() for u in md.urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            for path in (p for p in paths if p.endswith(".py")):
                self.strategies.load(path)
            data = [p for p in paths if not p.endswith(".py")]
            if data:
                self.request_open(data)

    # ---- frame-level window updates ----------------------------------------------------------
    def _on_frame(self, frame: Frame) -> None:
        if frame.symbol != self._symbol:
            self._symbol = frame.symbol
            self.setWindowTitle(f"{frame.symbol} — ReplayTerm" if frame.symbol else "ReplayTerm")

    def _on_rendered(self, ms: float) -> None:
        self.render_label.setText(f"render {ms:4.1f} ms")

    def _show_exception(self, title: str, text: str, details: str) -> None:
        self.error_dialog.report(title, text, details)

    # ---- layout and settings -----------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._arranged:
            return
        self._arranged = True
        self._arrange_tabs()
        self._default_state = self.saveState(STATE_VERSION)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray | bytes):
            self.restoreState(QByteArray(state), STATE_VERSION)

    def reset_layout(self) -> None:
        if self._default_state.isEmpty():
            return
        self.restoreState(self._default_state, STATE_VERSION)
        for dock in self.docks.values():
            dock.show()

    def order_flow_layout(self) -> None:
        """Order flow large in the middle (candles or footprint, profile beside it, CVD under it),
        the heatmap under it, the ladder on the left, the tape on the right."""
        d = self.docks
        h, v = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
        keep = ("ladder", "flow", "tape", "heatmap", "book")
        for name, dock in d.items():
            dock.setVisible(name in keep)
            dock.setFloating(False)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, d["ladder"])
        self.splitDockWidget(d["ladder"], d["flow"], h)
        self.splitDockWidget(d["flow"], d["tape"], h)
        self.splitDockWidget(d["flow"], d["heatmap"], v)
        self.splitDockWidget(d["tape"], d["book"], v)
        self.splitDockWidget(d["ladder"], d["manual"], v)  # under the ladder when opened
        d["manual"].hide()
        self.resizeDocks([d["ladder"], d["flow"], d["tape"]], [300, 1000, 330], h)
        self.resizeDocks([d["flow"], d["heatmap"]], [560, 360], v)
        self.resizeDocks([d["tape"], d["book"]], [600, 300], v)

    def _toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def _restore_settings(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(QByteArray(geometry))
        else:
            self.resize(1600, 950)
        for view in (self.ladder, self.tape, self.charts, self.heatmap, self.strategies, self.flow):
            view.load_settings(s)
        speed = s.value("transport/speed")
        if speed is not None:
            self.transport.set_speed(float(st.value(s, "transport/speed", 1.0, float)))  # type: ignore[arg-type]

    def save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        if self._arranged:  # a window never shown has no layout worth keeping
            s.setValue("window/state", self.saveState(STATE_VERSION))
        s.setValue("transport/speed", self.transport.current_speed)
        for view in (self.ladder, self.tape, self.charts, self.heatmap, self.strategies, self.flow):
            view.save_settings(s)
        self.execution.save_settings(s)
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.transport_keys.remove()
        self.serve_host.close()
        self.flow.shutdown()
        self.closing.emit()
        self.sweep.shutdown()
        self.save_settings()
        logging.getLogger().removeHandler(self._log_handler)
        for dialog in self.findChildren(QDialog):
            dialog.close()  # a leftover modeless dialog would keep the application alive
        super().closeEvent(event)


def _shown_name(path: str) -> str:
    """A file's name, or a database source's table and symbol (never its password)."""
    if is_database_url(path):
        try:
            return DatabaseQuery.parse(path).label
        except ValueError:
            return redact(path)
    return os.path.basename(path)
