"""File ▸ Cache…: where converted files are kept, how much they take, and the size cap."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from replayterm.core.data import cache_admin
from replayterm.core.data.cache import cache_dir, human_bytes

CAP_KEY = "cache/max_gb"


def saved_cap_gb(settings: QSettings) -> float | None:
    raw = settings.value(CAP_KEY)
    try:
        return None if raw is None else float(str(raw))
    except ValueError:
        return None


def apply_saved_cap(settings: QSettings) -> None:
    """Use the cap saved in the app's settings (else REPLAYTERM_CACHE_MAX_GB or the default)."""
    cache_admin.set_cap_gb(saved_cap_gb(settings))


class CacheDialog(QDialog):
    """Cache folder, usage, a size cap in GB (0 = none) and a button to clear unused entries."""

    def __init__(self, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Cache")
        self.setMinimumWidth(480)
        self.settings = settings
        folder = QLabel(str(cache_dir()), self)
        folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.usage = QLabel("", self)
        self.cap = QDoubleSpinBox(self)
        self.cap.setRange(0.0, 100_000.0)
        self.cap.setDecimals(1)
        self.cap.setSingleStep(5.0)
        self.cap.setSuffix(" GB")
        self.cap.setSpecialValueText("no cap")
        cap = cache_admin.cap_bytes()
        self.cap.setValue(0.0 if cap is None else cap / 1e9)
        self.cap.setToolTip(
            "The first open of a file converts it into this folder. Beyond this size the least "
            "recently used entries are removed after each conversion (files opened since the app "
            "started are kept)."
        )
        self.clear_button = QPushButton("Clear Unused Entries", self)
        self.clear_button.setToolTip("Remove every cached file except those opened since the app started")
        self.clear_button.clicked.connect(self._clear)
        note = QLabel(
            "The first open of a data file converts it here once; later opens map it in milliseconds. "
            "Beyond the cap, the least recently used entries are removed after each conversion.",
            self,
        )
        note.setWordWrap(True)
        note.setObjectName("dimLabel")
        form = QFormLayout()
        form.addRow("Folder:", folder)
        form.addRow("On disk:", self.usage)
        form.addRow("Size cap:", self.cap)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.clear_button)
        layout.addWidget(buttons)
        self._refresh()

    def _refresh(self) -> None:
        items = cache_admin.list_items()
        self.usage.setText(f"{human_bytes(sum(i.size for i in items))} in {len(items)} entries")

    def _clear(self) -> None:
        cache_admin.clear()
        self._refresh()

    def accept(self) -> None:
        gb = self.cap.value()
        self.settings.setValue(CAP_KEY, gb)
        cache_admin.set_cap_gb(gb)
        cache_admin.evict()
        super().accept()
