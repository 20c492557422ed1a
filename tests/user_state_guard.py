"""The suite never reaches the user's own cache, settings or sweep folders.

At import (before anything asks platformdirs or Qt where those live) the XDG homes are pointed at a
sandbox folder, so a test that loses its private ``REPLAYTERM_CACHE_DIR``/``REPLAYTERM_SETTINGS``
(a ``monkeypatch.undo()``, a subprocess started without them) writes into the sandbox, never into
``~/.cache`` or ``~/.config``. After every test :func:`touched` lists what ReplayTerm left there,
and the root conftest fails the test that did it. Other programs' files in the sandbox (fontconfig's
cache, for one) are not ReplayTerm's and are ignored.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_HOMES = {"XDG_CACHE_HOME": "cache", "XDG_CONFIG_HOME": "config", "XDG_DATA_HOME": "data"}
# The folders ReplayTerm uses under each home: platformdirs' "replayterm" (cache, sweeps) and
# QSettings' organization "ReplayTerm" (settings).
_OWN = ("replayterm", "ReplayTerm")


def install(environ: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    """Point the XDG homes of this process (and every subprocess it starts) at a fresh sandbox."""
    sandbox = Path(tempfile.mkdtemp(prefix="replayterm-test-home-"))
    for variable, folder in _HOMES.items():
        (sandbox / folder).mkdir()
        environ[variable] = str(sandbox / folder)
    return sandbox


def user_folders(sandbox: Path) -> list[Path]:
    return [sandbox / home / own for home in _HOMES.values() for own in _OWN]


def touched(sandbox: Path) -> list[Path]:
    """ReplayTerm's folders that appeared in the sandbox; they are removed so the next test starts clean."""
    found = [folder for folder in user_folders(sandbox) if folder.exists()]
    for folder in found:
        shutil.rmtree(folder, ignore_errors=True)
    return found


def remove(sandbox: Path) -> None:
    shutil.rmtree(sandbox, ignore_errors=True)
