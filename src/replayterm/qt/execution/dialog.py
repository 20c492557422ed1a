"""``ExecutionDialog``: the Execution settings window — for all strategies, or one strategy's own."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from replayterm.core.session.settings import SessionSettings
from replayterm.qt.execution.form import ExecutionForm

ALL = -1  # the scope "all strategies"


class ExecutionDialog(QDialog):
    """Apply sends ``apply_all(settings)`` or ``apply_strategy(id, settings or None)``; the
    caller keeps the settings and hands them back through ``set_state``."""

    apply_all = Signal(object)
    apply_strategy = Signal(int, object)
    copy_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Execution Settings")
        self.setObjectName("executionDialog")
        self.scope = QComboBox()
        self.scope.setToolTip("Settings for every strategy, or one strategy's own where it differs")
        self.own = QCheckBox("This strategy has settings of its own")
        self.form = ExecutionForm(self)
        self.message = QLabel("")
        self.message.setObjectName("dimLabel")
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.apply_button = self.buttons.addButton("Apply and Re-run", QDialogButtonBox.ButtonRole.ApplyRole)
        self.defaults_button = QPushButton("Defaults")
        self.copy_button = QPushButton("Copy as Command")
        self.copy_button.setToolTip("Copy the replayterm backtest command that gives the same fills")
        self.buttons.addButton(self.defaults_button, QDialogButtonBox.ButtonRole.ResetRole)
        self.buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)

        top = QHBoxLayout()
        top.addWidget(QLabel("Applies to"))
        top.addWidget(self.scope, 1)
        top.addWidget(self.own)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

        self._session = SessionSettings()
        self._own: dict[int, SessionSettings] = {}
        self.scope.currentIndexChanged.connect(self._show_scope)
        self.own.toggled.connect(self._on_own)
        self.apply_button.clicked.connect(self.apply)
        self.defaults_button.clicked.connect(lambda: self.form.set_settings(SessionSettings()))
        self.copy_button.clicked.connect(self.copy_requested)
        self.buttons.rejected.connect(self.close)
        self.form.changed.connect(lambda: self.message.setText(""))

    def set_state(
        self, session: SessionSettings, own: dict[int, SessionSettings], strategies: list[tuple[int, str]]
    ) -> None:
        """The settings in force and the strategies loaded (id, name)."""
        self._session, self._own = session, dict(own)
        current = self.scope.currentData()
        self.scope.blockSignals(True)
        self.scope.clear()
        self.scope.addItem("All strategies", ALL)
        for sid, name in strategies:
            suffix = " (own settings)" if sid in own else ""
            self.scope.addItem(f"{name}{suffix}", sid)
        index = max(self.scope.findData(current), 0)
        self.scope.setCurrentIndex(index)
        self.scope.blockSignals(False)
        self._show_scope()

    def set_instruments(self, names: list[str]) -> None:
        self.form.set_instruments(names)

    def _show_scope(self) -> None:
        sid = self.scope.currentData()
        strategy = sid is not None and sid != ALL
        self.own.setVisible(strategy)
        self.own.blockSignals(True)
        self.own.setChecked(strategy and sid in self._own)
        self.own.blockSignals(False)
        self.form.set_settings(self._own.get(sid, self._session) if strategy else self._session)
        self.form.setEnabled(not strategy or self.own.isChecked())

    def _on_own(self, on: bool) -> None:
        self.form.setEnabled(on)

    def apply(self) -> None:
        sid = self.scope.currentData()
        if sid is not None and sid != ALL and not self.own.isChecked():
            self.apply_strategy.emit(int(sid), None)
            self.message.setText("The strategy uses the settings for all strategies again; it re-runs.")
            return
        try:
            settings = self.form.settings(self._session)
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        if sid is None or sid == ALL:
            self.apply_all.emit(settings)
            self.message.setText("Applied: every strategy re-runs from the start to the current moment.")
        else:
            self.apply_strategy.emit(int(sid), settings)
            self.message.setText("Applied to this strategy: it re-runs from the start to the current moment.")
