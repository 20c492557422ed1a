"""Time & sales view. New prints arrive on top; while the pointer is over the tape or the user
has scrolled down, the rows being read stay where they are (the view is shifted by the number
of inserted rows), and the header says how many new prints are waiting above.

The table paints its visible rows itself, straight from the model's columns: every frame inserts
rows at the top and so repaints every visible cell, and the item delegate would ask the model for
seven roles per cell and draw each one through the style sheet (about 5 ms a frame).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QRect, QSettings, Qt
from PySide6.QtGui import QColor, QEnterEvent, QFontMetrics, QMouseEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from replayterm.core.frames import Frame
from replayterm.qt import settings as st
from replayterm.qt import theme
from replayterm.qt.compat import paint_guard
from replayterm.qt.models.tape_model import COUNT_COL, PRICE_COL, SIZE_COL, TIME_COL, TapeModel

ROW_HEIGHT = 17
CELL_PADDING = 4  # px of space right of the text in each cell


class _TapeTable(QTableView):
    def __init__(self, model: TapeModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setFont(theme.mono_font(9))
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWordWrap(False)
        self.setCornerButtonEnabled(False)
        vh = self.verticalHeader()
        vh.hide()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(ROW_HEIGHT)
        vh.setMinimumSectionSize(ROW_HEIGHT)
        hh = self.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setSectionsClickable(False)
        fm = QFontMetrics(self.font())
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        hh.resizeSection(TIME_COL, fm.horizontalAdvance("00:00:00.000") + 16)
        hh.resizeSection(PRICE_COL, fm.horizontalAdvance("0000000.00") + 14)
        hh.resizeSection(SIZE_COL, fm.horizontalAdvance("00,000.000") + 14)
        hh.setSectionResizeMode(COUNT_COL, QHeaderView.ResizeMode.Stretch)
        self.hovered = False

    def enterEvent(self, event: QEnterEvent) -> None:
        self.hovered = True
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self.hovered = False
        super().leaveEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """A click on a merged row (one taker order, "6▸") shows its price levels, or hides them."""
        if event.button() == Qt.MouseButton.LeftButton:
            row = self.rowAt(int(event.position().y()))
            model = self.model()
            if row >= 0 and isinstance(model, TapeModel):
                model.toggle_expanded(row)
        super().mousePressEvent(event)

    @paint_guard
    def paintEvent(self, event: QPaintEvent) -> None:
        model = self.model()
        if not isinstance(model, TapeModel):
            super().paintEvent(event)
            return
        n = model.rowCount()
        first = self.rowAt(event.rect().top())
        if n == 0 or first < 0:
            return
        last = self.rowAt(event.rect().bottom())
        last = n - 1 if last < 0 else last
        vp = self.viewport()
        p = QPainter(vp)
        p.setFont(self.font())
        alt = self.palette().color(QPalette.ColorRole.AlternateBase)
        cols = [
            (self.columnViewportPosition(c), self.columnWidth(c))
            for c in (TIME_COL, PRICE_COL, SIZE_COL, COUNT_COL)
        ]
        width = vp.width()
        flags = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        pens: dict[int, QColor] = {}
        for r in range(first, last + 1):
            y = self.rowViewportPosition(r)
            h = self.rowHeight(r)
            if r % 2:
                p.fillRect(0, y, width, h, alt)
            side, texts = model.row_texts(r)
            pen = pens.get(side)
            if pen is None:
                pen = pens[side] = model.side_color(side)
            p.setPen(pen)
            for (x, w), text in zip(cols, texts, strict=True):
                if text:
                    p.drawText(QRect(x, y, w - CELL_PADDING, h), flags, text)
        p.end()


class TapeView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = TapeModel(parent=self)
        self.table = _TapeTable(self.model, self)
        self._held = 0  # rows inserted above the visible ones while anchored

        self.min_size = QDoubleSpinBox(self)
        self.min_size.setDecimals(3)
        self.min_size.setRange(0.0, 1e9)
        self.min_size.setSingleStep(0.1)
        self.min_size.setKeyboardTracking(False)
        self.min_size.setMaximumWidth(110)
        self.min_size.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.min_size.editingFinished.connect(self.min_size.clearFocus)  # give the keys back
        self.min_size.setToolTip("Hide prints (after aggregation) smaller than this size")
        self.min_size.valueChanged.connect(self.model.set_min_size)
        self.liq_min_size = QDoubleSpinBox(self)
        self.liq_min_size.setDecimals(3)
        self.liq_min_size.setRange(0.0, 1e9)
        self.liq_min_size.setSingleStep(0.1)
        self.liq_min_size.setKeyboardTracking(False)
        self.liq_min_size.setMaximumWidth(110)
        self.liq_min_size.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.liq_min_size.editingFinished.connect(self.liq_min_size.clearFocus)
        self.liq_min_size.setToolTip(
            "Hide liquidations (orange: shorts bought in, pink: longs sold out) smaller than this "
            "size, in the tape and on the price chart"
        )
        self.liq_min_size.valueChanged.connect(self.model.set_liq_min_size)
        self.status = QLabel("", self)
        self.status.setObjectName("tapeStatus")
        self.exch_time = QToolButton(self)
        self.exch_time.setText("Exch time")
        self.exch_time.setCheckable(True)
        self.exch_time.setToolTip("Show each print's exchange time instead of when it was received")
        self.exch_time.toggled.connect(lambda on: self.model.set_time_axis("exchange" if on else "receive"))
        self.to_top = QToolButton(self)
        self.to_top.setText("▲ Latest")
        self.to_top.setToolTip("Scroll to the newest print")
        self.to_top.clicked.connect(self.scroll_to_latest)
        self.to_top.hide()

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 3, 4, 3)
        bar.setSpacing(4)
        bar.addWidget(QLabel("Min size", self))
        bar.addWidget(self.min_size)
        bar.addWidget(QLabel("Liquidations", self))
        bar.addWidget(self.liq_min_size)
        bar.addWidget(self.exch_time)
        bar.addStretch(1)
        bar.addWidget(self.status)
        bar.addWidget(self.to_top)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)

        self.model.rowsInserted.connect(self._on_rows_inserted)
        self.model.modelReset.connect(self._on_reset)
        self.table.verticalScrollBar().valueChanged.connect(self._on_scrolled)

    @property
    def anchored(self) -> bool:
        """True when new prints must not move what is on screen."""
        return self.table.hovered or self.table.verticalScrollBar().value() > 0

    def _on_rows_inserted(self, parent: QModelIndex | QPersistentModelIndex, first: int, last: int) -> None:
        if not self.anchored or first > 0:  # rows below the top (an expanded order) move nothing
            return
        bar = self.table.verticalScrollBar()
        n = last - first + 1
        target = bar.value() + n
        if bar.maximum() < target:  # the range is refreshed lazily; refresh it now
            self.table.updateGeometries()
        bar.setValue(target)
        self._held += n
        self._update_status()

    def _on_scrolled(self, value: int) -> None:
        if value == 0:
            self._held = 0
        self._held = min(self._held, value)
        self._update_status()

    def _on_reset(self) -> None:
        self._held = 0
        self.table.scrollToTop()
        self._update_status()

    def _update_status(self) -> None:
        held = self.table.verticalScrollBar().value()
        self.status.setText(f"{held} newer" if held else "")
        self.to_top.setVisible(held > 0)

    def scroll_to_latest(self) -> None:
        self.table.scrollToTop()

    def leave_hold_if_untouched(self) -> None:
        """On pointer leave: if the offset only came from anchoring, go back to the live top."""
        bar = self.table.verticalScrollBar()
        if not self.table.hovered and self._held and bar.value() == self._held:
            self.table.scrollToTop()

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.Leave:
            self.leave_hold_if_untouched()
        return super().event(e)

    def apply_frame(self, frame: Frame) -> None:
        self.model.apply_frame(frame)

    def save_settings(self, s: QSettings) -> None:
        s.setValue("tape/min_size", self.model.min_size)
        s.setValue("tape/liq_min_size", self.model.liq_min_size)
        s.setValue("tape/exchange_time", self.exch_time.isChecked())

    def load_settings(self, s: QSettings) -> None:
        self.min_size.setValue(float(st.value(s, "tape/min_size", 0.0, float)))  # type: ignore[arg-type]
        self.liq_min_size.setValue(float(st.value(s, "tape/liq_min_size", 0.0, float)))  # type: ignore[arg-type]
        self.exch_time.setChecked(bool(st.value(s, "tape/exchange_time", False, bool)))
