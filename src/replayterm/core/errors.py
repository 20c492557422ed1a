"""The one error type users see for bad input files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(eq=False)
class DataError(Exception):
    """A problem with an input file, described so that a user can fix it.

    ``line`` is 1-based as in the file (the header is line 1); ``None`` when the problem is
    not tied to one line (empty file, unknown format, truncated compression).
    """

    path: str | Path
    explanation: str
    line: int | None = None
    column: str | None = None
    value: str | None = None
    hint: str | None = None

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}"
        if self.line is not None:
            where += f", line {self.line}"
        if self.column is not None:
            where += f", column '{self.column}'"
        text = f"{where}: {self.explanation}"
        if self.value is not None:
            shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
            text += f" (value: {shown!r})"
        if self.hint:
            text += f". {self.hint}"
        return text
