"""File ▸ Export Image: save a chart (or the whole window) as a PNG, as shown on screen."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget


def save_png(widget: QWidget, path: str | Path) -> bool:
    """Render ``widget`` as it is on screen into a PNG file; False when it could not be written."""
    target = Path(path)
    if target.suffix.lower() != ".png":
        target = target.with_suffix(".png")
    return bool(widget.grab().save(str(target), "PNG"))


def export_dialog(parent: QWidget, widget: QWidget, name: str) -> None:
    path, _ = QFileDialog.getSaveFileName(
        parent, f"Export {name} as PNG", f"{name.lower().replace(' ', '-')}.png", "PNG image (*.png)"
    )
    if not path:
        return
    if not save_png(widget, path):
        QMessageBox.warning(
            parent, "Export Image", f"Could not write {path}: check the folder exists and is writable."
        )
