"""Desktop application (PySide6 + pyqtgraph). May import replayterm.core, never the reverse."""
