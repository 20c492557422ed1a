"""Transport keys (Space, + / −) for the whole main window, whatever widget has the focus.

The transport's actions are window shortcuts, and Qt triggers those only while their window is
the active one and the focused widget does not claim the key. Under Xvfb without a window manager
the main window is not re-activated when the Go to or Open dialog closes, and a focused combo box
(the ladder's Group) takes Space for its drop-down: Space then opened the drop-down and + / − did
nothing until a click. This filter, installed on the application, sees the key first and runs the
action itself. Text fields (line edits, spin boxes, editable combo boxes, text editors) keep
their keys.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

_TEXT_INPUTS = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)


def is_text_input(widget: QWidget | None) -> bool:
    if widget is None:
        return False
    if isinstance(widget, QComboBox):
        return widget.isEditable()
    if isinstance(widget, QTextEdit | QPlainTextEdit):
        return not widget.isReadOnly()
    return isinstance(widget, _TEXT_INPUTS)


class TransportKeys(QObject):
    """Routes the keys of ``actions`` ({Qt key: action}) in ``window`` to those actions."""

    def __init__(self, window: QWidget, actions: dict[int, QAction]) -> None:
        super().__init__(window)
        self.window = window
        self.actions = actions
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def remove(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            return False
        if not isinstance(watched, QWidget) or watched.window() is not self.window:
            return False
        assert isinstance(event, QKeyEvent)
        modifiers = event.modifiers() & ~(
            Qt.KeyboardModifier.KeypadModifier | Qt.KeyboardModifier.ShiftModifier
        )
        action = self.actions.get(event.key())
        if action is None or modifiers != Qt.KeyboardModifier.NoModifier or event.isAutoRepeat():
            return False
        if is_text_input(watched) or is_text_input(self.window.focusWidget()) or not action.isEnabled():
            return False
        if kind == QEvent.Type.ShortcutOverride:
            # Claim the key for the key press that follows, so no window shortcut runs it too.
            event.accept()
            return True
        action.trigger()
        return True
