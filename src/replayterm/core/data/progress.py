"""Progress reporting and cancellation for long reads (called between batches, never per row)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]


class Cancelled(Exception):  # noqa: N818 (the public name)
    """The caller's ``cancel`` callback asked to stop; nothing was cached for the file in progress."""


@dataclass
class Monitor:
    """Maps one file's own 0..1 progress into the caller's overall range and checks for cancel."""

    progress: ProgressFn | None = None
    cancel: CancelFn | None = None
    start: float = 0.0
    span: float = 1.0

    def check(self) -> None:
        if self.cancel is not None and self.cancel():
            raise Cancelled("cancelled")

    def report(self, fraction: float, message: str) -> None:
        if self.progress is not None:
            self.progress(self.start + self.span * min(max(fraction, 0.0), 1.0), message)
        self.check()

    def part(self, index: int, count: int) -> Monitor:
        """The monitor for item ``index`` of ``count`` equal parts of this one's range."""
        step = self.span / max(count, 1)
        return Monitor(self.progress, self.cancel, self.start + step * index, step)
