"""Readers: Tardis CSV, Parquet and Arrow files -> columnar tables, with an Arrow IPC cache.

Entry points: ``open_sources`` (files -> ``Source`` list), ``parse_time`` / ``format_time``
(µs <-> ISO-8601 UTC), ``Cancelled`` (raised when the cancel callback says so). Bad input
raises ``replayterm.core.errors.DataError``.
"""

from replayterm.core.data.model import Kind, Source
from replayterm.core.data.open import open_sources
from replayterm.core.data.progress import CancelFn, Cancelled, ProgressFn
from replayterm.core.data.timefmt import format_time, parse_time, parse_time_in
from replayterm.core.errors import DataError

__all__ = [
    "CancelFn",
    "Cancelled",
    "DataError",
    "Kind",
    "ProgressFn",
    "Source",
    "format_time",
    "open_sources",
    "parse_time",
    "parse_time_in",
]
