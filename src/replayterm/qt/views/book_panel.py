"""Book statistics panel: touch, spread, microprice, imbalance and data-quality counters."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QShowEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from replayterm.core.book.book import STATS_DEPTH
from replayterm.core.frames import Frame
from replayterm.qt import theme
from replayterm.qt.compat import paint_guard
from replayterm.qt.numfmt import price_decimals
from replayterm.qt.timefmt import format_time_of_day


class ImbalanceBar(QWidget):
    """A centered bar in [-1, 1]: green to the right (bid-heavy), red to the left."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value = math.nan
        self.setMinimumHeight(8)
        self.setMaximumHeight(10)

    def set_value(self, v: float) -> None:
        if v != self.value and not (math.isnan(v) and math.isnan(self.value)):
            self.value = v
            self.update()

    def sizeHint(self) -> QSize:
        return QSize(120, 8)

    @paint_guard
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.fillRect(r, theme.qcolor(theme.BASE))
        mid = r.center().x()
        if math.isfinite(self.value):
            v = max(-1.0, min(1.0, self.value))
            w = v * r.width() / 2
            color = theme.qcolor(theme.BID if v >= 0 else theme.ASK, 200)
            p.fillRect(QRectF(min(mid, mid + w), r.top(), abs(w), r.height()), color)
        p.setPen(theme.qcolor(theme.DIM))
        p.drawLine(int(mid), int(r.top()), int(mid), int(r.bottom()))
        p.end()


class BookPanel(QWidget):
    FIELDS = (
        ("symbol", "Symbol"),
        ("best_bid", "Best bid"),
        ("best_ask", "Best ask"),
        ("spread", "Spread (touch)"),
        ("mid", "Mid"),
        ("microprice", "Microprice (top 1)"),
        ("imbalance", f"Imbalance (top {STATS_DEPTH})"),
        ("levels", "Levels bid / ask"),
        ("events", "Events applied"),
        ("crossed", "Crossed-book removals"),
        ("skipped", "Skipped rows"),
        ("resnapshots", "Re-snapshots"),
        ("bbo", "BBO check vs ticker"),
    )
    TOOLTIPS: ClassVar[dict[str, str]] = {
        "crossed": "Best levels removed to uncross the book after a message (tardis-node rule)",
        "skipped": "Rows before the first snapshot of a file, skipped because there is no book to apply "
        "them to yet (count so far)",
        "resnapshots": "Times the book was cleared and rebuilt from a new snapshot after the first one "
        "(a recorder reconnect or an exchange resync), so far; updates just before each may be missing. "
        "They are the ticks on the timeline. Sequence numbers are not checked: Tardis files carry none.",
        "imbalance": "(bid size − ask size) / (bid size + ask size) over the "
        f"top {STATS_DEPTH} levels a side",
        "microprice": "Size-weighted mid of the best level a side: "
        "(bid·ask size + ask·bid size) / (bid size + ask size)",
        "spread": "Best ask − best bid, in price and in ticks",
        "symbol": "(quotes): the book is a quotes / book_ticker stream, one level per side",
    }

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: dict[str, QLabel] = {}
        grid = QGridLayout()
        grid.setContentsMargins(8, 6, 8, 6)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(3)
        mono = theme.mono_font(9)
        row = 0
        for key, title in self.FIELDS:
            if key == "crossed":
                line = QFrame(self)
                line.setFrameShape(QFrame.Shape.HLine)
                line.setObjectName("separator")
                grid.addWidget(line, row, 0, 1, 2)
                row += 1
            name = QLabel(title, self)
            name.setObjectName("dimLabel")
            value = QLabel("—", self)
            value.setFont(mono)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if key in self.TOOLTIPS:
                name.setToolTip(self.TOOLTIPS[key])
                value.setToolTip(self.TOOLTIPS[key])
            grid.addWidget(name, row, 0)
            grid.addWidget(value, row, 1)
            self.values[key] = value
            row += 1
            if key == "imbalance":
                self.imbalance_bar = ImbalanceBar(self)
                grid.addWidget(self.imbalance_bar, row, 0, 1, 2)
                row += 1
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(grid)
        layout.addStretch(1)
        self._warn: dict[str, bool] = {}
        self._pending: Frame | None = None
        self._bbo: dict[str, object] | None = None  # the shown instrument's BBO check (reset frames)

    def _set(self, key: str, text: str, warn: bool = False) -> None:
        label = self.values[key]
        if label.text() != text:
            label.setText(text)
        if self._warn.get(key) != warn:
            self._warn[key] = warn
            label.setProperty("warn", warn)
            label.style().unpolish(label)
            label.style().polish(label)

    def text(self, key: str) -> str:
        return self.values[key].text()

    def apply_frame(self, frame: Frame) -> None:
        if frame.bbo_check is not self._bbo or frame.reset:
            self._bbo = frame.bbo_check
            self._show_bbo(frame.top_of_book_only)
        if not self.isVisible():  # a tab behind another dock: show the latest state when shown
            self._pending = frame
            return
        self._pending = None
        self._show(frame)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._pending is not None:
            frame, self._pending = self._pending, None
            self._show(frame)

    def _show(self, frame: Frame) -> None:
        s = frame.stats
        d = price_decimals(frame.tick_size)

        def px(v: float, extra: int = 0) -> str:
            return f"{v:,.{d + extra}f}" if math.isfinite(v) else "—"

        symbol = frame.symbol or "—"
        self._set("symbol", f"{symbol} (quotes)" if frame.top_of_book_only else symbol)
        self._set("best_bid", px(s.best_bid))
        self._set("best_ask", px(s.best_ask))
        if math.isfinite(s.spread):
            ticks = s.spread / frame.tick_size if frame.tick_size > 0 else math.nan
            bps = f"  {s.spread_bps:.2f} bps" if math.isfinite(s.spread_bps) else ""
            tk = f"  ({ticks:.0f} t)" if math.isfinite(ticks) else ""
            self._set("spread", f"{px(s.spread)}{tk}{bps}", warn=s.spread < 0)
        else:
            self._set("spread", "—")
        self._set("mid", px(s.mid, 1))
        self._set("microprice", px(s.microprice, 2))
        self._set("imbalance", f"{s.imbalance:+.3f}" if math.isfinite(s.imbalance) else "—")
        self.imbalance_bar.set_value(s.imbalance)
        self._set("levels", f"{s.bid_levels:,} / {s.ask_levels:,}")
        self._set("events", f"{frame.events_applied:,}")
        self._set("crossed", f"{s.crossed_removals:,}", warn=s.crossed_removals > 0)
        self._set("skipped", f"{s.skipped_rows:,}", warn=s.skipped_rows > 0)
        self._set("resnapshots", f"{s.resnapshots:,}", warn=s.resnapshots > 0)

    def _show_bbo(self, book_is_ticker: bool = False) -> None:
        """Match rate of the rebuilt top of book against the exchange's ticker (L2 + book_ticker
        of one instrument); the tooltip says what the rate means and lists the first mismatches."""
        check = self._bbo
        label = self.values["bbo"]
        if check is None and book_is_ticker:
            self._set("bbo", "— (the book is the ticker)")
            label.setToolTip("This instrument's book is its quotes / book_ticker stream itself")
            return
        if check is None:
            self._set("bbo", "— (no ticker)")
            label.setToolTip("Open a book_ticker (or quotes) file with the L2 file to compare them")
            return
        rate = check.get("price_match_rate")
        full = check.get("price_and_size_match_rate")
        count = check.get("compared_messages")
        n = count if isinstance(count, int) else 0
        if not isinstance(rate, float) or not isinstance(full, float):
            self._set("bbo", "— (no overlap)")
            return
        self._set("bbo", f"{rate:.1%} px, {full:.1%} px+size of {n:,}", warn=rate < 0.95)
        lines = [f"Prices match after {rate:.2%} of {n:,} L2 messages; prices and sizes {full:.2%}.", ""]
        lines.append(str(check.get("meaning", "")).capitalize() + ".")
        firsts: Any = check.get("first_mismatches") or []
        if isinstance(firsts, list) and firsts:
            lines += ["", "First mismatches (book vs ticker, red ticks on the timeline):"]
            for m in firsts[:6]:
                lines.append(
                    f"  {format_time_of_day(int(m['local_ts']))}  {m['book_bid']:g} / {m['book_ask']:g}"
                    f"  vs  {m['ticker_bid']:g} / {m['ticker_ask']:g}"
                )
        label.setToolTip("\n".join(lines))
