"""Colours, fonts and the dark palette shared by every view (one place to restyle the app)."""

from __future__ import annotations

import logging

from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from replayterm import bundled

log = logging.getLogger(__name__)

WINDOW = "#15181e"
PANEL = "#1a1e25"
BASE = "#101318"
ALT_BASE = "#13171d"
BUTTON = "#222731"
BORDER = "#2a303b"
GRID = "#222833"
TEXT = "#d4d9e1"
DIM = "#8790a0"
ACCENT = "#3d8bfd"

BID = "#22b07d"  # bids and buy-side trades
ASK = "#e5484d"  # asks and sell-side trades
NEUTRAL = "#9aa3b2"  # trades with unknown side
LIQ_BUY = "#ff9f1c"  # liquidations that buy (a short was liquidated)
LIQ_SELL = "#d16ba5"  # liquidations that sell (a long was liquidated)
LAST = "#f2c94c"  # last trade price
MID = "#c8ced8"
OK = "#3fb950"
WARN = "#f0a020"
BAD = "#f85149"


def qcolor(hex_color: str, alpha: int = 255) -> QColor:
    c = QColor(hex_color)
    c.setAlpha(alpha)
    return c


def mono_font(point_size: float = 9.0) -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(point_size)
    font.setStyleHint(QFont.StyleHint.Monospace)
    return font


def dark_palette() -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    for r, c in (
        (role.Window, WINDOW),
        (role.WindowText, TEXT),
        (role.Base, BASE),
        (role.AlternateBase, ALT_BASE),
        (role.ToolTipBase, PANEL),
        (role.ToolTipText, TEXT),
        (role.PlaceholderText, DIM),
        (role.Text, TEXT),
        (role.Button, BUTTON),
        (role.ButtonText, TEXT),
        (role.BrightText, BAD),
        (role.Link, ACCENT),
        (role.Highlight, ACCENT),
        (role.HighlightedText, "#ffffff"),
        (role.Light, "#2c3340"),
        (role.Midlight, "#252b35"),
        (role.Mid, BORDER),
        (role.Dark, "#0c0e12"),
        (role.Shadow, "#000000"),
    ):
        p.setColor(r, QColor(c))
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(disabled, r, QColor("#5b6270"))
    return p


def apply_dark_theme(app: QApplication) -> None:
    """Fusion + dark palette + the installed ``resources/style.qss``."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    qss = bundled.resource_text("style.qss")
    if qss is not None:
        app.setStyleSheet(qss)
    else:
        log.warning("The style sheet is missing from the installed package; using the plain dark palette")
    if isinstance(app, QGuiApplication):
        font = app.font()
        font.setPointSizeF(9.0)
        app.setFont(font)
