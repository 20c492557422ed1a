"""Log panel and the logging handler that feeds it from any thread.

``QtLogHandler.emit`` may run on the replay thread: it only emits a signal, delivered to the
panel on the GUI thread through a queued connection.
"""

from __future__ import annotations

import html
import logging
from collections import deque

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from replayterm.qt import theme

MAX_RECORDS = 5000
_LEVELS = (
    ("Debug", logging.DEBUG),
    ("Info", logging.INFO),
    ("Warning", logging.WARNING),
    ("Error", logging.ERROR),
)
_COLORS = {
    logging.DEBUG: theme.DIM,
    logging.INFO: theme.TEXT,
    logging.WARNING: theme.WARN,
    logging.ERROR: theme.BAD,
}


class _Bridge(QObject):
    record = Signal(int, str)


class QtLogHandler(logging.Handler):
    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.bridge = _Bridge()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))

    def connect_to(self, panel: LogPanel) -> None:
        self.bridge.record.connect(panel.append_record, Qt.ConnectionType.QueuedConnection)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.bridge.record.emit(record.levelno, self.format(record))
        except RuntimeError:  # the bridge is gone (window closed): nothing left to show it
            pass
        except Exception:
            self.handleError(record)


class LogPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._records: deque[tuple[int, str]] = deque(maxlen=MAX_RECORDS)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_RECORDS)
        self.text.setFont(theme.mono_font(9))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.level = QComboBox(self)
        for name, lv in _LEVELS:
            self.level.addItem(name, lv)
        self.level.setCurrentIndex(1)
        self.level.currentIndexChanged.connect(self._refilter)
        clear = QToolButton(self)
        clear.setText("Clear")
        clear.clicked.connect(self.clear)
        self.count_label = QLabel("", self)
        self.count_label.setObjectName("dimLabel")
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 3, 4, 3)
        bar.addWidget(QLabel("Level", self))
        bar.addWidget(self.level)
        bar.addStretch(1)
        bar.addWidget(self.count_label)
        bar.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.text, 1)
        self.errors = 0
        self._following = True  # lines arrived while hidden: show the newest when shown

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._following:
            self._to_bottom()
            QTimer.singleShot(0, self._to_bottom)  # once the text is laid out for its size
            self._following = False

    def _to_bottom(self) -> None:
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())

    @Slot(int, str)
    def append_record(self, level: int, message: str) -> None:
        self._records.append((level, message))
        if level >= logging.ERROR:
            self.errors += 1
            self.count_label.setText(f"{self.errors} error{'s' if self.errors != 1 else ''}")
        if level >= self.level.currentData():
            bar = self.text.verticalScrollBar()
            # Follow new lines unless the user scrolled up to read. QPlainTextEdit follows only
            # while exactly at the bottom, and once full (each line drops the oldest) it slips
            # one line off the bottom and stops following.
            following = self._following or bar.value() >= bar.maximum() - 1
            self.text.appendHtml(self._html(level, message))
            if following:
                bar.setValue(bar.maximum())
            self._following = following and not self.isVisible()

    def messages(self) -> list[str]:
        return [m for _, m in self._records]

    def clear(self) -> None:
        self._records.clear()
        self.errors = 0
        self.count_label.setText("")
        self.text.clear()

    def _refilter(self) -> None:
        threshold = self.level.currentData()
        self.text.clear()
        self.text.appendHtml("<br>".join(self._html(lv, m) for lv, m in self._records if lv >= threshold))
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())

    @staticmethod
    def _html(level: int, message: str) -> str:
        color = _COLORS.get(level, theme.BAD if level > logging.ERROR else theme.TEXT)
        body = html.escape(message).replace("\n", "<br>&nbsp;&nbsp;")
        return f'<span style="color:{color}; white-space:pre">{body}</span>'
