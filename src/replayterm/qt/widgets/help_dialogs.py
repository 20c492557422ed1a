"""Help ▸ Keyboard Shortcuts (built from the menus, so it is never out of date) and About."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox, QWidget

from replayterm import __version__


def shortcut_table(window: QMainWindow) -> list[tuple[str, str]]:
    """(action text, shortcuts) for every menu action that has a shortcut."""
    rows = []
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        for act in menu.actions() if isinstance(menu, QMenu) else []:
            keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in act.shortcuts())
            if keys:
                rows.append((act.text().replace("&&", "\0").replace("&", "").replace("\0", "&"), keys))
    return rows


def show_shortcuts(window: QMainWindow) -> QMessageBox:
    rows = shortcut_table(window)
    width = max(len(t) for t, _ in rows)
    text = "\n".join(f"{t.ljust(width)}   {k}" for t, k in rows)
    box = QMessageBox(
        QMessageBox.Icon.NoIcon, "Keyboard Shortcuts", text, QMessageBox.StandardButton.Close, window
    )
    box.setStyleSheet("QLabel { font-family: monospace; }")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def show_about(parent: QWidget) -> None:
    QMessageBox.about(
        parent,
        "About ReplayTerm",
        f"ReplayTerm {__version__}\n\nMarket-replay terminal: rebuild limit order books tick by tick, "
        "seek anywhere, run strategies against a simulated exchange.",
    )
