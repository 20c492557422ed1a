"""Pieces shared by the headless commands: a terminal progress line and opening data files."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TextIO

from replayterm.core.data import open_sources
from replayterm.core.replay.instruments import Instrument, build_instruments


class TerminalProgress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal (quiet in logs)."""

    def __init__(self, label: str, stream: TextIO | None = None, min_interval_s: float = 0.1) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.min_interval_s = min_interval_s
        self._last = 0.0
        self._drawn = False

    def __call__(self, fraction: float, message: str = "") -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < self.min_interval_s and fraction < 1.0:
            return
        self._last = now
        fraction = min(max(fraction, 0.0), 1.0)
        filled = int(fraction * 30)
        bar = "#" * filled + "-" * (30 - filled)
        text = f"\r{self.label} [{bar}] {fraction * 100:5.1f}% {message}"[:120]
        self.stream.write(text.ljust(120))
        self.stream.flush()
        self._drawn = True

    def done(self) -> None:
        if self._drawn:
            self.stream.write("\r" + " " * 120 + "\r")
            self.stream.flush()


def open_instruments(files: Sequence[str], label: str = "opening") -> list[Instrument]:
    """Read the files and index their books, with a progress line; errors propagate."""
    bar = TerminalProgress(label)
    try:
        sources = open_sources(list(files), progress=lambda f, m: bar(0.5 * f, m))
        return build_instruments(sources, progress=lambda f, m: bar(0.5 + 0.5 * f, m))
    finally:
        bar.done()
