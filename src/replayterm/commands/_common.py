"""Pieces shared by the headless commands: a terminal progress line and opening data files."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TextIO

from replayterm.core.data import open_sources
from replayterm.core.replay.instruments import build_instruments
from replayterm.core.replay.opening import OpenedData


class TerminalProgress:
    """Progress on stderr: a redrawn bar on a terminal, one line per phase otherwise (for logs)."""

    def __init__(self, label: str = "", stream: TextIO | None = None, min_interval_s: float = 0.1) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.min_interval_s = min_interval_s
        self._last = 0.0
        self._phase = ""
        self._drawn = False

    def __call__(self, fraction: float, message: str = "") -> None:
        text = message or self.label
        if not self.tty:
            if text and text != self._phase and text != "done":
                self._phase = text
                print(f"{text}...", file=self.stream, flush=True)
            return
        now = time.monotonic()
        if now - self._last < self.min_interval_s and fraction < 1.0:
            return
        self._last = now
        filled = int(30 * min(max(fraction, 0.0), 1.0))
        bar = "#" * filled + "." * (30 - filled)
        self.stream.write(f"\r{text[:40]:<40} [{bar}] {fraction * 100:5.1f}%")
        self.stream.flush()
        self._drawn = True

    def done(self) -> None:
        if self._drawn:
            self.stream.write("\r" + " " * 82 + "\r")
            self.stream.flush()
            self._drawn = False


def open_instruments(files: Sequence[str], label: str = "opening") -> OpenedData:
    """Read the files and index their books, with a progress line; errors propagate."""
    bar = TerminalProgress(label)
    try:
        sources = open_sources(list(files), progress=lambda f, m: bar(0.5 * f, m))
        return build_instruments(sources, progress=lambda f, m: bar(0.5 + 0.5 * f, m))
    finally:
        bar.done()


def check_time_range(
    from_text: str | None, from_ts: int | None, to_text: str | None, to_ts: int | None
) -> None:
    """ValueError when ``--from`` is not before ``--to`` (an inverted or empty range)."""
    if from_ts is not None and to_ts is not None and from_ts >= to_ts:
        raise ValueError(f"--from {from_text} is not before --to {to_text}: the range is empty (swap them?)")
