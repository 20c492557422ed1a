"""Timeline slider over the whole file: µs mapped onto a fine integer range, gap markers
painted on the groove, hover tooltip with the time, and debounced seeks while dragging."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QAbstractSlider, QSlider, QStyle, QStyleOptionSlider, QToolTip, QWidget

from replayterm.qt import theme
from replayterm.qt.compat import paint_guard
from replayterm.qt.timefmt import format_utc

RESOLUTION = 1_000_000
DEBOUNCE_MS = 150


class TimelineSlider(QSlider):
    seek_requested = Signal("qint64")  # type: ignore[arg-type]

    def __init__(
        self, parent: QWidget | None = None, debounce_ms: int = DEBOUNCE_MS, debounce: QTimer | None = None
    ) -> None:
        """``debounce``: the single-shot timer that holds back seeks while the handle moves
        (injectable, so tests fire it by hand instead of waiting for it)."""
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setRange(0, RESOLUTION)
        self.setPageStep(RESOLUTION // 100)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMouseTracking(True)
        self.setEnabled(False)
        self._start = 0
        self._end = 0
        self._gaps: list[int] = []
        self._seq_gaps: list[tuple[int, int, str]] = []  # (start, end, text) of sequence gaps
        self._days: list[int] = []
        self._indexed: int | None = None  # while indexing: the replay is usable up to here
        self._marks: list[int] = []  # BBO check mismatches (red, below the groove)
        self._bookmarks: list[int] = []  # the user's bookmarks (yellow flags above the groove)
        self._loop: tuple[int, int] | None = None  # loop region (shaded)
        self._pending: int | None = None
        self._last_emitted: int | None = None
        self._debounce = debounce if debounce is not None else QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._emit_pending)
        self.sliderMoved.connect(self._on_user_move)
        self.actionTriggered.connect(self._on_action)
        self.sliderReleased.connect(self._flush)

    # ---- mapping -----------------------------------------------------------------------------
    def set_span(self, start_us: int, end_us: int) -> None:
        if (start_us, end_us) != (self._start, self._end):
            self._start, self._end = int(start_us), int(end_us)
            self.setEnabled(self._end > self._start)
            self.update()

    def span(self) -> tuple[int, int]:
        return self._start, self._end

    def to_us(self, value: int) -> int:
        return self._start + (self._end - self._start) * value // RESOLUTION

    def to_value(self, us: int) -> int:
        if self._end <= self._start:
            return 0
        v = (int(us) - self._start) * RESOLUTION // (self._end - self._start)
        return max(0, min(RESOLUTION, v))

    @property
    def busy(self) -> bool:
        """True while the user drags or a seek is waiting: frames must not move the handle."""
        return self.isSliderDown() or self._debounce.isActive()

    def set_time(self, us: int) -> None:
        """Follow the replay clock without emitting anything (and without a repaint while the
        handle stays on the same pixel)."""
        if self.busy:
            return
        v = self.to_value(us)
        if v != self.value() and self._pixel(v) != self._pixel(self.value()):
            self.blockSignals(True)
            self.setValue(v)
            self.blockSignals(False)

    def _pixel(self, value: int) -> int:
        # the widget is a little wider than the groove, so this never misses a handle move
        return value * max(1, self.width()) // RESOLUTION

    def set_day_marks(self, starts_us: list[int]) -> None:
        """Where each further file (day) of a multi-day replay begins: drawn as tall ticks."""
        self._days = [int(d) for d in starts_us]
        self.update()

    def day_marks(self) -> list[int]:
        return list(self._days)

    def set_indexed(self, us: int | None) -> None:
        """While a big open is indexed: the part after ``us`` is shaded (None: all indexed)."""
        if us != self._indexed:
            self._indexed = None if us is None else int(us)
            self.update()

    def set_gaps(self, gaps_us: list[int]) -> None:
        self._gaps = [int(g) for g in gaps_us]
        self.setToolTip(f"{len(self._gaps)} gap(s) in the data (amber marks)" if self._gaps else "")
        self.update()

    def set_sequence_gaps(self, gaps: list[tuple[int, int, str]]) -> None:
        """Sequence gaps of raw recordings: a red band from each gap to its re-sync (its duration)."""
        self._seq_gaps = [(int(a), int(b), str(t)) for a, b, t in gaps]
        tips = [t for _, _, t in self._seq_gaps[:10]]
        if len(self._seq_gaps) > 10:
            tips.append(f"... and {len(self._seq_gaps) - 10} more (replayterm info --check lists them)")
        self.setToolTip("\n".join(tips))
        self.update()

    def sequence_gaps(self) -> list[tuple[int, int, str]]:
        return list(self._seq_gaps)

    def set_marks(self, marks_us: list[int]) -> None:
        """Times of BBO check mismatches, drawn as short red ticks under the groove."""
        self._marks = [int(m) for m in marks_us]
        self.update()

    def gaps(self) -> list[int]:
        return list(self._gaps)

    def set_bookmarks(self, marks_us: list[int]) -> None:
        self._bookmarks = sorted(int(m) for m in marks_us)
        self.update()

    def set_loop(self, region: tuple[int, int] | None) -> None:
        self._loop = region
        self.update()

    # ---- user input --------------------------------------------------------------------------
    def _on_user_move(self, value: int) -> None:
        self._pending = value
        self._debounce.start()

    def _on_action(self, action: int) -> None:
        if action != QAbstractSlider.SliderAction.SliderMove:
            self._on_user_move(self.sliderPosition())

    def _flush(self) -> None:
        if self._debounce.isActive():
            self._debounce.stop()
            self._emit_pending()

    def _emit_pending(self) -> None:
        if self._pending is None:
            return
        us = self.to_us(self._pending)
        self._pending = None
        if us != self._last_emitted:
            self._last_emitted = us
            self.seek_requested.emit(us)

    def _groove(self) -> QRect:
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        return self.style().subControlRect(
            QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, self
        )

    def _value_at(self, x: int) -> int:
        g = self._groove()
        return QStyle.sliderValueFromPosition(0, RESOLUTION, x - g.left(), max(1, g.width()))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        # jump to the click (instead of paging), then let the normal drag continue from there
        if event.button() == Qt.MouseButton.LeftButton and self.isEnabled():
            value = self._value_at(event.position().toPoint().x())
            self.setSliderPosition(value)
            self.setValue(value)
            self._on_user_move(value)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)
        if self.isEnabled():
            pos = event.position().toPoint()
            text = format_utc(self.to_us(self._value_at(pos.x())))
            QToolTip.showText(self.mapToGlobal(pos + QPoint(0, -28)), text, self)

    # ---- painting ----------------------------------------------------------------------------
    @paint_guard
    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        nothing = (
            not (self._gaps or self._marks or self._days or self._bookmarks or self._loop or self._seq_gaps)
            and self._indexed is None
        )
        if nothing or self._end <= self._start:
            return
        g = self._groove()
        p = QPainter(self)
        span = self._end - self._start

        def x_of(us: int) -> int:
            return g.left() + round((us - self._start) / span * (g.width() - 1))

        if self._indexed is not None and self._indexed < self._end:
            # indexed part: a green line under the groove; the rest is hatched until indexed
            x = x_of(max(self._indexed, self._start))
            p.fillRect(QRect(g.left(), g.bottom() + 2, x - g.left() + 1, 2), QColor(theme.OK))
            p.fillRect(
                QRect(x, g.top() - 2, g.right() - x + 1, g.height() + 4),
                QBrush(QColor(theme.DIM), Qt.BrushStyle.BDiagPattern),
            )
        if self._loop is not None:
            a, b = (max(self._start, min(self._end, v)) for v in self._loop)
            p.fillRect(
                QRect(x_of(a), g.top() - 3, max(1, x_of(b) - x_of(a)), g.height() + 6),
                QColor(61, 139, 253, 70),
            )
        flag = QColor(theme.LAST)
        for us in self._bookmarks:
            if self._start <= us <= self._end:
                x = x_of(us)
                p.fillRect(x, 0, 2, g.top(), flag)
        day_color = QColor(theme.ACCENT)
        for us in self._days:
            if self._start <= us <= self._end:
                p.fillRect(x_of(us), 0, 1, self.height(), day_color)
        color = QColor(theme.WARN)
        for us in self._gaps:
            if self._start <= us <= self._end:
                x = g.left() + round((us - self._start) / span * (g.width() - 1))
                p.fillRect(x - 1, g.top() - 3, 2, g.height() + 6, color)
        bad = QColor(theme.BAD)
        band = QColor(theme.BAD)
        band.setAlpha(140)
        for a, b, _ in self._seq_gaps:
            if b >= self._start and a <= self._end:
                x0 = x_of(max(a, self._start))
                x1 = max(x_of(min(b, self._end)), x0 + 2)  # at least visible when short
                p.fillRect(QRect(x0, g.top() - 4, x1 - x0 + 1, g.height() + 8), band)
                p.fillRect(x0 - 1, 0, 2, self.height(), bad)
        drawn: set[int] = set()
        for us in self._marks:
            if self._start <= us <= self._end:
                x = g.left() + round((us - self._start) / span * (g.width() - 1))
                if x not in drawn:  # thousands of marks collapse to one tick per pixel
                    drawn.add(x)
                    p.fillRect(x, g.bottom() + 2, 1, 4, bad)
        p.end()
