"""Desktop application (PySide6 + pyqtgraph). May import replayterm.core, never the reverse."""

from replayterm.qt.compat import guard_bool_refcounts

guard_bool_refcounts()
