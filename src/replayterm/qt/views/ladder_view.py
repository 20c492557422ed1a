"""Depth ladder view: a fixed-row table with size bars, grouping and auto-center/lock.

Own resting orders of the strategies show at the outer edge of their side's cell: a dot per
strategy colour, then the size and the queue ahead (``0.010 q3.41``); the tooltip has details.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRect, QSettings, QSize, Qt
from PySide6.QtGui import QAction, QColor, QFontMetrics, QKeySequence, QPainter, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from replayterm.core.frames import Frame
from replayterm.qt import settings as st
from replayterm.qt import theme
from replayterm.qt.compat import paint_guard
from replayterm.qt.models.ladder_model import (
    ASK_COL,
    ASK_ZONE,
    BEST_ASK,
    BEST_BID,
    BID_COL,
    BID_ZONE,
    GROUPINGS,
    LAST_BUY,
    LAST_SELL,
    LAST_TRADE,
    LadderModel,
    OwnCell,
)

ROW_HEIGHT = 18
WHEEL_ROWS_PER_NOTCH = 3
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_CENTER = Qt.AlignmentFlag.AlignCenter


class LadderDelegate(QStyledItemDelegate):
    """Paints a whole ladder cell (background, size bar, text) with no style machinery."""

    def __init__(self, model: LadderModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        c = theme.qcolor
        self._bg_bid = c(theme.BID, 16)
        self._bg_ask = c(theme.ASK, 16)
        self._bg_price_bid = c(theme.BID, 34)
        self._bg_price_ask = c(theme.ASK, 34)
        self._bg_spread = QColor("#0c0e12")
        self._bar_bid = c(theme.BID, 120)
        self._bar_ask = c(theme.ASK, 120)
        self._last_bg = c(theme.LAST, 235)
        self._last_buy_edge = c(theme.BID)
        self._last_sell_edge = c(theme.ASK)
        self._text = QColor(theme.TEXT)
        self._dim = QColor(theme.DIM)
        self._best_bid_text = QColor("#7ee2b8")
        self._best_ask_text = QColor("#ff9a9d")
        self._price_bid_text = QColor("#b9e6d2")
        self._price_ask_text = QColor("#f3c0c2")
        self._last_text = QColor("#111111")
        self._own_bg = QColor(10, 12, 16, 215)
        self._own_font = theme.mono_font(8)
        self._own_colours: dict[str, QColor] = {}

    @paint_guard
    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        row, col = index.row(), index.column()
        text, frac, flags = self._model.cell(row, col)
        rect: QRect = option.rect
        if col == BID_COL:
            painter.fillRect(rect, self._bg_bid)
            if frac > 0:
                w = max(1, int(frac * (rect.width() - 2)))
                painter.fillRect(rect.right() - w, rect.top() + 2, w, rect.height() - 3, self._bar_bid)
            painter.setPen(self._best_bid_text if flags & BEST_BID else self._text)
            painter.drawText(rect.adjusted(4, 0, -6, 0), _RIGHT, text)
            own = self._model.own(row, col)
            if own is not None:
                self._paint_own(painter, rect, own, text, left=True)
        elif col == ASK_COL:
            painter.fillRect(rect, self._bg_ask)
            if frac > 0:
                w = max(1, int(frac * (rect.width() - 2)))
                painter.fillRect(rect.left() + 1, rect.top() + 2, w, rect.height() - 3, self._bar_ask)
            painter.setPen(self._best_ask_text if flags & BEST_ASK else self._text)
            painter.drawText(rect.adjusted(6, 0, -4, 0), _LEFT, text)
            own = self._model.own(row, col)
            if own is not None:
                self._paint_own(painter, rect, own, text, left=False)
        else:
            if flags & LAST_TRADE:
                painter.fillRect(rect, self._last_bg)
                edge = self._last_buy_edge if flags & LAST_BUY else self._last_sell_edge
                if flags & (LAST_BUY | LAST_SELL):
                    painter.fillRect(rect.left(), rect.top(), 3, rect.height(), edge)
                painter.setPen(self._last_text)
            elif flags & ASK_ZONE:
                painter.fillRect(rect, self._bg_price_ask)
                painter.setPen(self._price_ask_text)
            elif flags & BID_ZONE:
                painter.fillRect(rect, self._bg_price_bid)
                painter.setPen(self._price_bid_text)
            else:
                painter.fillRect(rect, self._bg_spread)
                painter.setPen(self._dim)
            painter.drawText(rect, _CENTER, text)

    def _colour(self, hex_colour: str) -> QColor:
        c = self._own_colours.get(hex_colour)
        if c is None:
            c = self._own_colours[hex_colour] = QColor(hex_colour)
        return c

    def _paint_own(self, painter: QPainter, rect: QRect, own: OwnCell, size_text: str, left: bool) -> None:
        """A chip at the outer edge of the cell: a dot per strategy, the order size and the queue
        ahead (``0.01 q3.4``); narrower cells drop the size, then the queue (the tooltip keeps all)."""
        size, queue, colours, _ = own
        room = rect.width() - painter.fontMetrics().horizontalAdvance(size_text) - 12
        painter.save()
        painter.setFont(self._own_font)
        fm = painter.fontMetrics()
        dots = colours[:3]
        dot_w = 7
        label = ""
        for candidate in (f"{size} q{queue}", f"q{queue}"):
            if fm.horizontalAdvance(candidate) + dot_w * len(dots) + 9 <= room:
                label = candidate
                break
        w = (fm.horizontalAdvance(label) + 4 if label else 0) + dot_w * len(dots) + 5
        x = rect.left() + 1 if left else rect.right() - w
        chip = QRect(x, rect.top() + 2, w, rect.height() - 4)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(self._colour(dots[0]))
        painter.setBrush(self._own_bg)
        painter.drawRoundedRect(chip, 3, 3)
        painter.setPen(Qt.PenStyle.NoPen)
        cy = chip.center().y() + 0.5
        for i, c in enumerate(dots):
            painter.setBrush(self._colour(c))
            painter.drawEllipse(QPointF(chip.left() + 5.5 + i * dot_w, cy), 2.8, 2.8)
        if label:
            painter.setPen(self._colour(dots[0]).lighter(140))
            painter.drawText(chip.adjusted(2 + dot_w * len(dots), 0, -2, 0), _LEFT, label)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(60, ROW_HEIGHT)


class _LadderTable(QTableView):
    """Row count follows the viewport height; the wheel scrolls the price window (and locks it)."""

    def __init__(self, model: LadderModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ladder = model
        self.setModel(model)
        self.setItemDelegate(LadderDelegate(model, self))
        self.setFont(theme.mono_font(9))
        self.setShowGrid(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setCornerButtonEnabled(False)
        vh = self.verticalHeader()
        vh.hide()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(ROW_HEIGHT)
        vh.setMinimumSectionSize(ROW_HEIGHT)
        hh = self.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        hh.resizeSection(1, QFontMetrics(self.font()).horizontalAdvance("0" * 10) + 16)
        hh.setHighlightSections(False)
        hh.setSectionsClickable(False)

    def wheelEvent(self, event: QWheelEvent) -> None:
        notches = event.angleDelta().y() / 120.0
        rows = round(notches * WHEEL_ROWS_PER_NOTCH)
        if rows:
            self._ladder.scroll(rows)
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        rows = max(3, self.viewport().height() // ROW_HEIGHT)
        self._ladder.set_row_count(rows | 1)  # odd: the touch sits on the middle row


class LadderView(QWidget):
    """Toolbar (grouping, auto-center, center) over the ladder table."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = LadderModel(parent=self)
        self.table = _LadderTable(self.model, self)

        self.grouping = QComboBox(self)
        for g in GROUPINGS:
            self.grouping.addItem(f"{g} tick" if g == 1 else f"{g} ticks", g)
        self.grouping.setToolTip("Price grouping: sizes are summed into buckets of this many ticks")
        self.grouping.currentIndexChanged.connect(
            lambda i: self.model.set_grouping(self.grouping.itemData(i))
        )

        self.act_auto_center = QAction("&Auto-center Ladder", self, checkable=True, checked=True)
        self.act_auto_center.setShortcut(QKeySequence("C"))
        self.act_auto_center.setToolTip("Keep the touch in the middle (C). The wheel locks the ladder.")
        self.act_auto_center.toggled.connect(self.model.set_auto_center)
        self.model.auto_center_changed.connect(self.act_auto_center.setChecked)
        self.act_recenter = QAction("Re&center Ladder", self)
        self.act_recenter.setShortcut(QKeySequence("Shift+C"))
        self.act_recenter.triggered.connect(self.model.recenter)
        self.act_coarser = QAction("Coarser Ladder &Grouping", self)
        self.act_coarser.setShortcut(QKeySequence("]"))
        self.act_coarser.triggered.connect(lambda: self._step_grouping(+1))
        self.act_finer = QAction("&Finer Ladder Grouping", self)
        self.act_finer.setShortcut(QKeySequence("["))
        self.act_finer.triggered.connect(lambda: self._step_grouping(-1))

        auto_btn = QToolButton(self)
        auto_btn.setDefaultAction(self.act_auto_center)
        auto_btn.setText("Auto-center")
        center_btn = QToolButton(self)
        center_btn.setDefaultAction(self.act_recenter)
        center_btn.setText("Center")
        for w in (auto_btn, center_btn, self.grouping):
            w.setFocusPolicy(Qt.FocusPolicy.TabFocus)

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 3, 4, 3)
        bar.setSpacing(4)
        bar.addWidget(QLabel("Group", self))
        bar.addWidget(self.grouping)
        bar.addStretch(1)
        self._bar = bar
        bar.addWidget(auto_btn)
        bar.addWidget(center_btn)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        # A raw recording's book inside a sequence gap: said above the ladder, which is greyed.
        self.unreliable = QLabel(self)
        self.unreliable.setObjectName("bookUnreliable")
        self.unreliable.setWordWrap(True)
        self.unreliable.setStyleSheet(
            "QLabel#bookUnreliable { background: #5a4a1a; color: #ffd479; padding: 3px; }"
        )
        self.unreliable.hide()
        layout.addWidget(self.unreliable)
        self._body = QHBoxLayout()
        self._body.setContentsMargins(0, 0, 0, 0)
        self._body.setSpacing(0)
        self._body.addWidget(self.table, 1)
        layout.addLayout(self._body, 1)

    def actions_for_menu(self) -> list[QAction]:
        return [self.act_auto_center, self.act_recenter, self.act_coarser, self.act_finer]

    def add_tool_widget(self, widget: QWidget) -> None:
        """A control in the ladder's toolbar, after the grouping box."""
        self._bar.insertWidget(2, widget)

    def add_side_widget(self, widget: QWidget) -> None:
        """A widget drawn beside the table, row-aligned with it (extra ladder columns)."""
        self._body.addWidget(widget)

    def _step_grouping(self, step: int) -> None:
        i = min(max(self.grouping.currentIndex() + step, 0), self.grouping.count() - 1)
        self.grouping.setCurrentIndex(i)

    def apply_frame(self, frame: Frame) -> None:
        self.model.apply_frame(frame)
        text = frame.unreliable
        if text != self.unreliable.text() or self.unreliable.isHidden() == bool(text):
            self.unreliable.setText(text)
            self.unreliable.setVisible(bool(text))
            self.table.setEnabled(not text)  # greyed: levels may be wrong until a re-sync

    def save_settings(self, s: QSettings) -> None:
        s.setValue("ladder/grouping", self.model.grouping)
        s.setValue("ladder/auto_center", self.model.auto_center)

    def load_settings(self, s: QSettings) -> None:
        g = st.value(s, "ladder/grouping", 1, int)
        if g in GROUPINGS:
            self.grouping.setCurrentIndex(GROUPINGS.index(g))
        self.act_auto_center.setChecked(bool(st.value(s, "ladder/auto_center", True, bool)))
