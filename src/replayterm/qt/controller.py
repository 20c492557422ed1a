"""Wiring between the main window and the replay worker, and the worker's thread lifetime.

Every command crosses threads as a queued signal; frames, progress and errors come
back the same way. The direct calls are ``request_cancel``, ``issue_seek`` and ``issue_open``
(they only count: a queued cancel or seek would wait behind the very open, seek or strategy run
it is meant to stop or supersede) and
``request_abort_callback`` (stops a strategy callback that does not return, which no queued
command could ever reach).

The threading rules: docs/architecture.md, "Threading".
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, QThread, Slot

from replayterm.qt.main_window import MainWindow
from replayterm.qt.timefmt import format_utc
from replayterm.qt.worker import OpenedInfo, ReplayWorker
from replayterm.qt.worker_thread import stop_worker

log = logging.getLogger(__name__)

SHUTDOWN_WAIT_MS = 30_000


class ReplayController(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.replay_thread = QThread(self)
        self.replay_thread.setObjectName("replay")
        self.worker = ReplayWorker(window.execution.settings)
        self.worker.moveToThread(self.replay_thread)
        self.replay_thread.started.connect(self.worker.start)
        self.replay_thread.finished.connect(self.worker.deleteLater)

        w, wk = window, self.worker
        # Counted as they are sent, so a newer seek or open supersedes a running one. Connected
        # before the queued commands: the count is there before the worker can start one.
        w.open_requested.connect(wk.issue_open, Qt.ConnectionType.DirectConnection)
        w.seek_requested.connect(wk.issue_seek, Qt.ConnectionType.DirectConnection)
        # Counted as they are sent, so a Cancel pressed while one still waits is not lost. Each of
        # these slots takes its count first thing, in the order sent.
        for command in (
            w.strategies.add_strategy,
            w.strategies.enable_strategy,
            w.strategies.reload_strategy,
            w.strategies.set_strategy_params,
            w.execution.apply_settings,
            w.execution.apply_strategy_settings,
        ):
            command.connect(wk.issue_command, Qt.ConnectionType.DirectConnection)
        w.open_requested.connect(wk.open)
        w.play.connect(wk.play)
        w.pause.connect(wk.pause)
        w.seek_requested.connect(wk.seek)
        w.speed_changed.connect(wk.set_speed)
        w.step_message.connect(wk.step_message)
        w.step_trade.connect(wk.step_trade)
        w.depth_reach_changed.connect(wk.set_depth_reach)
        w.focus_requested.connect(wk.set_focus)
        w.second_requested.connect(wk.set_second)
        w.cancel_open.connect(wk.request_cancel, Qt.ConnectionType.DirectConnection)
        w.closing.connect(self.shutdown)

        wk.frame_ready.connect(w.show_frame)
        wk.frame_ready.connect(self._frame_received)
        wk.enable_flow_control()  # frames at the pace the GUI takes them (before the thread runs)
        wk.open_progress.connect(w.set_progress)
        wk.opened.connect(self._on_opened)
        wk.open_failed.connect(w.open_failed)
        wk.open_cancelled.connect(w.open_cancelled)
        wk.failed.connect(w.show_error)
        wk.index_progress.connect(self._on_index_progress)
        wk.gaps_changed.connect(w.set_gaps)
        wk.carry_question.connect(w.ask_carry)
        w.carry_answer.connect(wk.carry_strategies)

        ui = w.strategies
        w.manual.add_strategy.connect(wk.add_strategy)
        w.manual.set_params.connect(wk.set_strategy_params)
        wk.strategies_changed.connect(w.manual.set_strategies)
        ui.add_strategy.connect(wk.add_strategy)
        ui.remove_strategy.connect(wk.remove_strategy)
        ui.enable_strategy.connect(wk.enable_strategy)
        ui.reload_strategy.connect(wk.reload_strategy)
        ui.set_strategy_params.connect(wk.set_strategy_params)
        wk.strategies_changed.connect(ui.set_strategies)
        wk.strategy_failed.connect(ui.show_strategy_error)
        wk.busy.connect(ui.set_busy)
        ui.set_worker_controls(cancel=wk.request_cancel, abort=wk.request_abort_callback)

        orders = w.orders
        orders.list_requested.connect(wk.list_orders)
        orders.inspect_requested.connect(wk.inspect_order)
        wk.orders_listed.connect(orders.set_orders)
        wk.order_inspected.connect(orders.show_life)

        ex = w.execution
        ex.apply_settings.connect(wk.set_execution)
        ex.apply_strategy_settings.connect(wk.set_strategy_execution)
        for request in (ex.apply_settings, ex.apply_strategy_settings):
            request.connect(ui.command_sent)
        ex.export_requested.connect(wk.export_results)
        wk.exported.connect(ex.exported)
        wk.execution_changed.connect(ex.set_report)
        wk.strategies_changed.connect(ex.set_strategies)

        self.replay_thread.start()
        w.speed_changed.emit(w.transport.current_speed)  # the worker starts at 1x; the window may not
        w.depth_reach_changed.emit(w.depth_reach())

    @Slot(object)
    def _frame_received(self, _frame: object) -> None:
        self.worker.frame_received()

    def _on_opened(self, info: OpenedInfo) -> None:
        for warning in info.warnings:
            log.warning("%s", warning)
        self.window.set_gaps(info.gaps)
        self.window.execution.set_opened(info.paths, info.instruments)
        self.window.set_instruments(info.instruments, info.focus)
        self.window.transport.set_marks(info.bbo_mismatches)
        self.window.transport.slider.set_day_marks(info.days)
        self.window.transport.slider.set_sequence_gaps(info.sequence_gaps)
        for _, _, text in info.sequence_gaps:
            log.warning("%s", text)
        self.window.transport.slider.set_indexed(info.start_ts if info.indexing else None)
        self.window.open_finished()
        self.window.bookmarks.set_files(info.paths)
        self.window.flow.open_data(info.paths, info.instruments[info.focus] if info.instruments else "")
        log.info("%s: %s events", ", ".join(info.instruments), f"{info.events:,}")
        for line in info.checks:
            log.info("%s", line)

    def _on_index_progress(self, fraction: float, ready_ts: int, waiting_ts: int) -> None:
        """A big open goes on in the background: shade what is not indexed yet, show progress."""
        slider = self.window.transport.slider
        if fraction >= 1.0 or fraction < 0:
            slider.set_indexed(None if fraction >= 1.0 else ready_ts)
            self.window.open_finished()
            if fraction < 0:
                self.window.status_label_text(f"Indexing stopped: the replay ends at {format_utc(ready_ts)}")
            return
        slider.set_indexed(ready_ts)
        if waiting_ts >= 0:
            text = f"Seek to {format_utc(waiting_ts)} waits for indexing"
        else:
            text = f"Indexing — play and seek work up to {format_utc(ready_ts)}"
        self.window.set_progress(fraction, text)

    def shutdown(self) -> None:
        """Stop the replay, end the thread and wait for it (see ``stop_worker``). Safe to call twice."""
        if not stop_worker(self.worker, self.replay_thread, SHUTDOWN_WAIT_MS):
            log.error("The replay thread did not stop within %d s", SHUTDOWN_WAIT_MS // 1000)
