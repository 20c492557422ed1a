"""Start the desktop app, or say in one line why this machine cannot show it.

Qt aborts the process (no exception, no advice) when it has no display or its platform plugin
cannot load, so ``replayterm.system_check`` runs first and Qt is imported only after it passes.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from replayterm import system_check


def main(argv: Sequence[str] = ()) -> int:
    blocker = system_check.gui_blocker()
    if blocker is not None:
        print(blocker, file=sys.stderr)
        return 1
    try:
        from replayterm.qt.app import main as gui_main
    except ImportError as exc:  # a system library ldd could not check (no ldd, or not Linux)
        if not _is_missing_system_library(exc):
            raise
        print(
            f"replayterm: cannot start the desktop app: {exc}; `replayterm doctor` says what to "
            f"install; {system_check.HEADLESS_NOTE}.",
            file=sys.stderr,
        )
        return 1
    return gui_main(argv)


def _is_missing_system_library(exc: ImportError) -> bool:
    text = str(exc)
    return "cannot open shared object" in text or "DLL load failed" in text or "Library not loaded" in text
