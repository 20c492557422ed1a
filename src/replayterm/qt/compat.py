"""Work-around for reference-count defects in PySide6 6.12.0 on Python < 3.12.

There, ``SignalInstance.emit()`` returns ``True`` and ``QObject.property()`` of an unset name
returns ``None`` without taking a reference (and other calls returning ``None`` do the same), so
each call drops one reference to a singleton. pyqtgraph makes several such calls per
``setData``; after a few thousand the count reaches zero and CPython aborts with
"bool_dealloc: deallocating True or False" / "none_dealloc". PySide6 6.11.x does not have the
defect and Python >= 3.12 makes these singletons immortal. When (and only when) the defect is
observed, ``None``, ``True`` and ``False`` get a very large extra reference count, which is what
3.12 does for them anyway: they are static objects that are never freed, so an inflated count is
harmless.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import sys
from collections.abc import Callable

log = logging.getLogger(__name__)

_EXTRA_REFS = 1 << 40
_applied = False


def _drops_singleton_refs() -> bool:
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True), sys.getrefcount(None)
    for _ in range(16):
        probe.ping.emit()
        probe.property("replayterm-probe")
    return sys.getrefcount(True) < before[0] or sys.getrefcount(None) < before[1]


def guard_bool_refcounts() -> bool:
    """Apply the work-around if this PySide6 needs it. Returns True when it was applied."""
    global _applied
    if _applied or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return _applied
    if _drops_singleton_refs():
        for obj in (None, True, False):
            ctypes.c_ssize_t.from_address(id(obj)).value += _EXTRA_REFS
        _applied = True
        import PySide6

        log.debug("PySide6 %s drops references to None/True; work-around applied", PySide6.__version__)
    return _applied


_reported: set[str] = set()


def paint_guard(method: Callable[..., None]) -> Callable[..., None]:
    """Keep an exception from escaping a Qt paint override.

    An exception leaving a C++ virtual override is printed by PySide6 6.11 but can crash 6.12;
    either way a paint method that raises would raise again on every repaint. Log it once per
    class and skip the paint instead.
    """

    @functools.wraps(method)
    def wrapper(self: object, *args: object) -> None:
        try:
            method(self, *args)
        except Exception:
            name = f"{type(self).__qualname__}.{method.__name__}"
            if name not in _reported:
                _reported.add(name)
                log.exception("%s failed; skipping this paint", name)

    return wrapper
