"""A second depth ladder beside the first, on another instrument (a perp and its spot, two venues).

It picks its instrument from its own selector; the worker then puts that instrument's levels in
every frame (``frame.second``) and this view shows them in an ordinary ``LadderView``.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from replayterm.core.frames import Frame, TradeBatch
from replayterm.qt.views.ladder_view import LadderView


class SecondLadder(QWidget):
    instrument_chosen = Signal(int)  # -1: none

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.selector = QComboBox(self)
        self.selector.setToolTip("Instrument shown in this ladder")
        self.selector.currentIndexChanged.connect(self._on_choice)
        self.ladder = LadderView(self)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 3, 4, 3)
        bar.addWidget(QLabel("Instrument", self))
        bar.addWidget(self.selector, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.ladder, 1)
        self._names: list[str] = []
        self._shown: str | None = None

    def set_instruments(self, names: list[str], focus: int) -> None:
        """After an open: offer every instrument; default to the first one that is not ``focus``."""
        self._names = list(names)
        self.selector.blockSignals(True)
        self.selector.clear()
        self.selector.addItems(self._names)
        self.selector.blockSignals(False)
        if len(self._names) > 1:
            default = next(i for i in range(len(self._names)) if i != focus)
            self.selector.setCurrentIndex(default)
            self._on_choice(default)

    def _on_choice(self, index: int) -> None:
        if self.isVisible() or index >= 0:
            self.instrument_chosen.emit(index)

    def apply_frame(self, frame: Frame) -> None:
        side = frame.second
        if side is None:
            return
        reset = frame.reset or side.name != self._shown
        self._shown = side.name
        view = dataclasses.replace(
            frame,
            reset=reset,
            symbol=side.name,
            tick_size=side.tick_size,
            bids=side.bids,
            asks=side.asks,
            trades=TradeBatch(),
            strategies=[],
        )
        self.ladder.apply_frame(view)
