"""What can go wrong with a running strategy, as values the GUI and the CLI can show."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType


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
    instantiated), "runaway" (it kept reacting to itself at one instant without end) or
    "exchange" (its simulated exchange could not process an event)."""

    ts: int  # simulated time when it happened (µs)
    callback: str  # e.g. "on_book"
    kind: str
    message: str
    traceback: str

    def __str__(self) -> str:
        return f"{self.callback}: {self.message}"

    @classmethod
    def from_exception(
        cls,
        ts: int,
        callback: str,
        exc: BaseException | None,
        *,
        kind: str = "exception",
        message: str | None = None,
        skip_first_frame: bool = False,
    ) -> StrategyError:
        """The error for ``exc`` raised in ``callback``; ``skip_first_frame`` drops the runner's
        frame so that the traceback starts in the strategy's code."""
        text = ""
        if exc is not None:
            tb: TracebackType | None = exc.__traceback__
            if skip_first_frame and tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            text = "".join(traceback.format_exception(type(exc), exc, tb))
        if message is None:
            message = "" if exc is None else f"{type(exc).__name__}: {exc}"
        return cls(ts, callback, kind, message, text)
