"""Strategy dock: the loaded strategies (colour, name with its enable box, status, position, net
PnL, fills, orders), load / reload / unload, the selected strategy's parameter form and, when
it failed, its traceback. The panel only emits requests; the worker answers with a new list.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from replayterm.core.session.views import StrategyInfo
from replayterm.core.strategy import StrategyStatus, available_strategies
from replayterm.qt import theme
from replayterm.qt.strategy.list_model import NAME_COL, StrategyListModel
from replayterm.qt.strategy.params_form import FieldTypes, ParamsForm
from replayterm.qt.strategy.store import StrategyStore
from replayterm.qt.timefmt import format_utc

FILE_FILTER = "Python strategy (*.py);;All files (*)"
_LAST_DIR = "strategies/last_dir"


def examples_folder() -> Path:
    """The example strategies: ``examples/`` of a source checkout, else the built-in ones."""
    package = Path(__file__).resolve().parents[2]  # .../replayterm
    checkout = package.parents[1] / "examples"
    return checkout if checkout.is_dir() else package / "strategies"


def strategy_start_folder(settings: QSettings, specs: list[str]) -> str:
    """Where a strategy file dialog opens: the last folder a strategy was loaded from, else the
    folder of a loaded strategy file, else the examples; never a bare home folder."""
    last = str(settings.value(_LAST_DIR, "") or "")
    if last and os.path.isdir(last):
        return last
    for spec in specs:
        path = spec.split(".py:", 1)[0] + ".py" if ".py:" in spec else spec
        if path.endswith(".py") and os.path.isfile(path):
            return os.path.dirname(os.path.abspath(path))
    return str(examples_folder())


class StrategyPanel(QWidget):
    add_requested = Signal(str, dict)
    remove_requested = Signal(int)
    enable_requested = Signal(int, bool)
    reload_requested = Signal(int)
    params_requested = Signal(int, dict)

    def __init__(self, store: StrategyStore, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.settings = settings
        self.types = FieldTypes()
        self._shown: tuple[Any, ...] | None = None  # what the form shows: id, class, spec, params
        self._selected: int | None = None
        self._known: set[int] = set()
        self.model = StrategyListModel(store, self)
        self.model.enable_toggled.connect(self.enable_requested)
        self._build_actions()
        self._build_widgets()
        store.structure_changed.connect(self._on_structure)
        self._on_structure()

    # ---- construction ------------------------------------------------------------------------
    def _action(self, text: str, key: str, slot: object, tip: str) -> QAction:
        act = QAction(text, self)
        if key:
            act.setShortcut(QKeySequence(key))
        act.setToolTip(f"{tip} ({key})" if key else tip)
        act.triggered.connect(slot)
        return act

    def _build_actions(self) -> None:
        self.act_load = self._action(
            "&Load Strategy File…", "Ctrl+L", self.load_dialog, "Load a strategy .py file"
        )
        self.act_reload = self._action(
            "&Reload Strategy",
            "Ctrl+R",
            self.reload_selected,
            "Re-run the selected strategy with its file's code",
        )
        self.act_unload = self._action(
            "&Unload Strategy", "Ctrl+Shift+U", self.unload_selected, "Remove the selected strategy"
        )
        self.act_enable = QAction("&Enabled", self, checkable=True)
        self.act_enable.setShortcut(QKeySequence("Ctrl+E"))
        self.act_enable.setToolTip("Run the selected strategy with the replay (Ctrl+E)")
        self.act_enable.triggered.connect(self._on_enable_action)
        self.builtin_menu = QMenu("Load &Built-in", self)
        for name, target in sorted(available_strategies().items()):
            act = self.builtin_menu.addAction(name)
            act.setToolTip(target)
            act.triggered.connect(lambda _=False, n=name: self.add_requested.emit(n, {}))
        self.load_menu = QMenu(self)
        self.load_menu.addAction(self.act_load)
        self.load_menu.addSeparator()
        self.load_menu.addSection("Built-in")
        for act in self.builtin_menu.actions():
            self.load_menu.addAction(act)

    def actions_for_menu(self) -> list[QAction | QMenu | None]:
        return [self.act_load, self.builtin_menu, None, self.act_enable, self.act_reload, self.act_unload]

    def _build_widgets(self) -> None:
        load = QToolButton(self)
        load.setText("Load")
        load.setToolTip("Load a strategy file (Ctrl+L) or a built-in strategy")
        load.setMenu(self.load_menu)
        load.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        load.clicked.connect(self.act_load.trigger)
        self.load_button = load
        buttons = [load]
        for act, text in (
            (self.act_enable, "Enabled"),
            (self.act_reload, "Reload"),
            (self.act_unload, "Unload"),
        ):
            act.setIconText(text)  # what a tool button shows; the menu keeps the long text
            b = QToolButton(self)
            b.setDefaultAction(act)
            buttons.append(b)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 3, 4, 3)
        bar.setSpacing(4)
        for b in buttons:
            bar.addWidget(b)
        bar.addStretch(1)

        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setMinimumHeight(22 * 4 + 26)  # the header and four strategies
        hh = self.table.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(NAME_COL, QHeaderView.ResizeMode.Stretch)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._on_current_changed())
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.table.addActions([self.act_enable, self.act_reload, self.act_unload])

        self.title = QLabel("", self)
        self.title.setStyleSheet(f"font-weight: 600; color: {theme.TEXT};")
        self.subtitle = QLabel("", self)
        self.subtitle.setObjectName("dimLabel")
        self.form = ParamsForm(self)
        self.form.dirty_changed.connect(self._on_dirty)
        scroll = QScrollArea(self)
        scroll.setWidget(self.form)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.revert_button = QPushButton("Revert", self)
        self.revert_button.setToolTip("Show the strategy's current parameters again")
        self.revert_button.clicked.connect(self._revert)
        self.apply_button = QPushButton("Apply", self)
        self.apply_button.setToolTip("Re-run the strategy from the start with these parameters (Ctrl+Return)")
        self.apply_button.setShortcut(QKeySequence("Ctrl+Return"))
        self.apply_button.clicked.connect(self.apply_params)
        buttons_row = QHBoxLayout()
        buttons_row.setContentsMargins(6, 2, 6, 4)
        buttons_row.addStretch(1)
        buttons_row.addWidget(self.revert_button)
        buttons_row.addWidget(self.apply_button)

        self.error_title = QLabel("", self)
        self.error_title.setObjectName("errorLabel")
        self.error_title.setWordWrap(True)
        self.error_text = QPlainTextEdit(self)
        self.error_text.setReadOnly(True)
        self.error_text.setFont(theme.mono_font(8))
        self.error_text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.error_text.setStyleSheet(
            f"QPlainTextEdit {{ color: #ffb4b0; border-top: 1px solid {theme.BORDER}; }}"
        )
        self.error_box = QWidget(self)
        eb = QVBoxLayout(self.error_box)
        eb.setContentsMargins(6, 4, 6, 0)
        eb.setSpacing(3)
        eb.addWidget(self.error_title)
        eb.addWidget(self.error_text, 1)

        self.details = QWidget(self)
        dl = QVBoxLayout(self.details)
        dl.setContentsMargins(0, 4, 0, 0)
        dl.setSpacing(2)
        head = QVBoxLayout()
        head.setContentsMargins(6, 0, 6, 2)
        head.setSpacing(0)
        head.addWidget(self.title)
        head.addWidget(self.subtitle)
        dl.addLayout(head)
        dl.addWidget(scroll, 2)
        dl.addLayout(buttons_row)
        dl.addWidget(self.error_box, 3)

        self.empty = QLabel(
            "No strategy loaded.\n\nLoad a .py file (Ctrl+L)\nor a built-in from the Load menu.",
            self,
        )
        self.empty.setObjectName("emptyHint")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 4)
        self.splitter.setSizes([120, 480])
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.splitter, 1)

    # ---- selection ---------------------------------------------------------------------------
    def selected_id(self) -> int | None:
        index = self.table.selectionModel().currentIndex()
        return self.model.id_at(index.row()) if index.isValid() else None

    def select(self, sid: int) -> None:
        row = self.model.row_of(sid)
        if row is not None:
            flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            self.table.selectionModel().setCurrentIndex(self.model.index(row, 0), flags)

    def _on_current_changed(self) -> None:
        sid = self.selected_id()
        if sid is not None:
            self._selected = sid
        self._show_selected()

    def _on_structure(self) -> None:
        ids = self.store.ids()
        self.empty.setVisible(not ids)
        self.splitter.setVisible(bool(ids))
        new = [sid for sid in ids if sid not in self._known]
        self._known = set(ids)
        if new:
            want: int | None = new[-1]  # a strategy just loaded: show it
        elif self._selected in ids:
            want = self._selected
        else:
            want = ids[-1] if ids else None
        if want is not None and want != self.selected_id():
            self.select(want)
        self._show_selected()

    def _show_selected(self) -> None:
        sid = self.selected_id()
        info = self.store.info(sid) if sid is not None else None
        for act in (self.act_reload, self.act_unload, self.act_enable):
            act.setEnabled(info is not None)
        if info is None:
            self._shown = None
            self.title.setText("")
            self.subtitle.setText("")
            self.form.set_fields([], {})
            self.error_box.hide()
            self._on_dirty(False)
            return
        self.act_enable.setChecked(info.status is StrategyStatus.ENABLED)
        self.title.setText(f"Parameters — {info.name}")
        self.subtitle.setText(f"{info.class_name} · {info.spec or 'class'} · {info.instrument}")
        self.subtitle.setToolTip(info.spec or "")
        shown = (sid, info.class_name, info.spec, info.params)
        if shown != self._shown:
            same_strategy = self._shown is not None and self._shown[:3] == shown[:3]
            if same_strategy and not self.form.dirty:
                self.form.set_values(info.params)
            else:
                self.form.set_fields(self.types.fields(info.spec, info.params), info.params)
            self._shown = shown
        self._show_error(info)
        self._on_dirty(self.form.dirty)

    def _show_error(self, info: StrategyInfo) -> None:
        err = info.error
        if err is None:
            self.error_box.hide()
            return
        when = f"{format_utc(err.ts)} UTC"
        if err.kind in ("aborted", "timeout"):  # the message already names the callback
            what = f"{info.name}: {err.message}, at {when}."
        else:
            what = f"{info.name} failed in {err.callback} at {when}: {err.message}"
        self.error_title.setText(
            f"{what}\nFix the file and save it (hot reload), or tick Enabled to run it again."
        )
        text = err.traceback or err.message
        if self.error_text.toPlainText() != text:
            self.error_text.setPlainText(text)
        self.error_box.show()

    def _on_dirty(self, dirty: bool) -> None:
        has = self.selected_id() is not None and bool(self.form.fields)
        self.apply_button.setEnabled(has and dirty)
        self.revert_button.setEnabled(has and dirty)

    # ---- requests ----------------------------------------------------------------------------
    def load_dialog(self) -> None:
        start = strategy_start_folder(self.settings, [i.spec for i in self.store.infos() if i.spec])
        path, _ = QFileDialog.getOpenFileName(self, "Load Strategy", start, FILE_FILTER)
        if path:
            self.load_file(path)

    def load_file(self, path: str, params: dict[str, Any] | None = None) -> None:
        path = os.path.abspath(path)
        self.settings.setValue(_LAST_DIR, os.path.dirname(path))
        self.add_requested.emit(path, dict(params or {}))

    def reload_selected(self) -> None:
        sid = self.selected_id()
        if sid is not None:
            self.reload_requested.emit(sid)

    def unload_selected(self) -> None:
        sid = self.selected_id()
        if sid is not None:
            self.remove_requested.emit(sid)

    def _on_enable_action(self, checked: bool) -> None:
        sid = self.selected_id()
        info = self.store.info(sid) if sid is not None else None
        if info is None:
            return
        self.act_enable.setChecked(info.status is StrategyStatus.ENABLED)  # the answer sets it
        self.enable_requested.emit(info.handle.id, checked)

    def apply_params(self) -> None:
        sid = self.selected_id()
        if sid is not None and self.form.fields:
            self.params_requested.emit(sid, self.form.values())

    def _revert(self) -> None:
        sid = self.selected_id()
        info = self.store.info(sid) if sid is not None else None
        if info is not None:
            self.form.set_fields(self.types.fields(info.spec, info.params), info.params)
            self._on_dirty(False)
