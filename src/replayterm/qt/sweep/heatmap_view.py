"""The sweep heatmap: one metric over two chosen parameters (``batch.heatmap.pivot``).

Cells are coloured on a diverging scale centred on zero when the metric takes both signs (red
losses, green gains), on a sequential one otherwise; each cell also prints its value, and a cell
with no finished run stays dark. Axes are labelled with the parameter values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from replayterm.batch.heatmap import Pivot, pivot
from replayterm.batch.walkforward import LOWER_IS_BETTER
from replayterm.qt.sweep.setup_form import format_default

EMPTY_RGBA = (34, 38, 46, 255)
DIVERGING = pg.ColorMap([0.0, 0.5, 1.0], [(200, 60, 60), (48, 52, 60), (60, 180, 90)])
SEQUENTIAL = pg.ColorMap([0.0, 0.5, 1.0], [(30, 50, 110), (30, 150, 160), (240, 220, 80)])


def colour_cells(values: np.ndarray, lower_is_better: bool) -> tuple[np.ndarray, float, float, pg.ColorMap]:
    """RGBA (rows, cols, 4) for the cells, the value range and the colour map used."""
    finite = values[np.isfinite(values)]
    rgba = np.empty((*values.shape, 4), dtype=np.ubyte)
    rgba[...] = EMPTY_RGBA
    if finite.size == 0:
        return rgba, 0.0, 1.0, SEQUENTIAL
    lo, hi = float(finite.min()), float(finite.max())
    if lo < 0 < hi:
        bound = max(-lo, hi)
        lo, hi, cmap = -bound, bound, DIVERGING
    else:
        cmap = SEQUENTIAL
    if hi == lo:
        hi = lo + 1.0
    scaled = np.clip((values - lo) / (hi - lo), 0.0, 1.0)
    if lower_is_better:
        scaled = 1.0 - scaled
    lut = cmap.getLookupTable(0.0, 1.0, 256, alpha=True).astype(np.ubyte)
    ok = np.isfinite(values)
    rgba[ok] = lut[(scaled[ok] * 255).astype(np.int64)]
    return rgba, lo, hi, cmap


class SweepHeatmap(QWidget):
    """Metric / X / Y pickers over a plot of coloured, labelled cells."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.metric_box = QComboBox(self)
        self.x_box = QComboBox(self)
        self.y_box = QComboBox(self)
        for combo in (self.metric_box, self.x_box, self.y_box):
            combo.currentIndexChanged.connect(self.redraw)
        pickers = QHBoxLayout()
        for label, combo in (("Metric", self.metric_box), ("X", self.x_box), ("Y", self.y_box)):
            pickers.addWidget(QLabel(label, self))
            pickers.addWidget(combo, 1)
        self.plot = pg.PlotWidget(self)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.note = QLabel("", self)
        self.note.setObjectName("dimLabel")
        layout = QVBoxLayout(self)
        layout.addLayout(pickers)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.note)
        self._labels: list[pg.TextItem] = []
        self._rows: list[dict[str, Any]] = []
        self.current: Pivot | None = None

    def set_choices(self, params: Sequence[str], metrics: Sequence[str], metric: str = "net_pnl") -> None:
        for combo, items, pick in (
            (self.metric_box, metrics, metric),
            (self.x_box, params, params[0] if params else ""),
            (self.y_box, params, params[1] if len(params) > 1 else (params[0] if params else "")),
        ):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(list(items))
            if pick in items:
                combo.setCurrentText(pick)
            combo.blockSignals(False)
        self.redraw()

    def set_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        self._rows = list(rows)
        self.redraw()

    def redraw(self) -> None:
        for item in self._labels:
            self.plot.removeItem(item)
        self._labels = []
        x, y, metric = self.x_box.currentText(), self.y_box.currentText(), self.metric_box.currentText()
        if not (x and y and metric and self._rows):
            self.image.clear()
            self.current = None
            self.note.setText("Run a sweep to see a metric over two parameters.")
            return
        p = self.current = pivot(self._rows, x, y, metric)
        rgba, lo, hi, cmap = colour_cells(p.values, metric in LOWER_IS_BETTER)
        self.image.setImage(rgba, autoLevels=False)
        self.image.setRect(-0.5, -0.5, len(p.x), len(p.y))
        for j in range(len(p.y)):
            for i in range(len(p.x)):
                value = p.values[j, i]
                text = "—" if not math.isfinite(value) else f"{value:.6g}"
                label = pg.TextItem(text, color=(235, 238, 242), anchor=(0.5, 0.5))
                label.setPos(i, j)
                self.plot.addItem(label)
                self._labels.append(label)
        bottom, left = self.plot.getAxis("bottom"), self.plot.getAxis("left")
        bottom.setTicks([[(i, format_default(v)) for i, v in enumerate(p.x)]])
        left.setTicks([[(j, format_default(v)) for j, v in enumerate(p.y)]])
        bottom.setLabel(x)
        left.setLabel(y)
        self.plot.setXRange(-0.5, len(p.x) - 0.5, padding=0.02)
        self.plot.setYRange(-0.5, len(p.y) - 0.5, padding=0.02)
        runs = int(p.counts.sum())
        better = "lower is better" if metric in LOWER_IS_BETTER else "higher is better"
        colours = "red … green" if cmap is DIVERGING else "blue … yellow"
        self.note.setText(
            f"{metric}: mean over days and other parameters of {runs} finished runs · "
            f"range {lo:.6g} … {hi:.6g} · {colours} = worse … better ({better})"
        )
