"""What can go wrong with a running strategy, as values the GUI and the CLI can show."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class StrategyStatus(StrEnum):
    ENABLED = "enabled"  # runs (or will run) with the replay
    DISABLED = "disabled"  # switched off by the user: results frozen where it stopped
    FAILED = "failed"  # raised, or was stopped by the watchdog: results frozen, error kept


class StrategyAborted(BaseException):
    """Raised inside the replay thread to stop a strategy callback that does not return.

    A ``BaseException`` so that a strategy's own ``except Exception`` does not swallow it.
    """


@dataclass(frozen=True, slots=True)
class StrategyError:
    """Why a strategy stopped. ``kind``: "exception" (a callback raised), "timeout" (over the
    per-callback time budget), "aborted" (stopped on request), "start" (the class could not be
    instantiated) or "runaway" (it kept reacting to itself at one instant without end)."""

    ts: int  # simulated time when it happened (µs)
    callback: str  # e.g. "on_book"
    kind: str
    message: str
    traceback: str

    def __str__(self) -> str:
        return f"{self.callback}: {self.message}"
