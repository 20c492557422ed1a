"""Persistent GUI settings (QSettings, organization "ReplayTerm").

``REPLAYTERM_SETTINGS=/path/file.ini`` (or an explicit path) redirects everything to one INI
file: tests and portable installs use it so they never touch the user's real settings.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from PySide6.QtCore import QSettings

ORGANIZATION = "ReplayTerm"
APPLICATION = "ReplayTerm"
ENV_SETTINGS = "REPLAYTERM_SETTINGS"
MAX_RECENT = 12
_RECENT_KEY = "files/recent"
_RECENT_SETS_KEY = "files/recent_sets"  # each entry: the paths opened together, one per line


def open_settings(path: str | os.PathLike[str] | None = None) -> QSettings:
    target = path if path is not None else os.environ.get(ENV_SETTINGS)
    if target:
        return QSettings(os.fspath(target), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def _as_list(value: object) -> list[str]:
    # INI files give back a bare string for a one-element list and None for an empty one.
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, Iterable):
        return [str(v) for v in value if v]
    return []


def recent_files(settings: QSettings) -> list[str]:
    return _as_list(settings.value(_RECENT_KEY))[:MAX_RECENT]


def recent_sets(settings: QSettings) -> list[list[str]]:
    """The sets of files opened together, newest first (older settings: one set per file)."""
    sets = [entry.split("\n") for entry in _as_list(settings.value(_RECENT_SETS_KEY))]
    if not sets:
        sets = [[p] for p in recent_files(settings)]
    return [s for s in sets if s][:MAX_RECENT]


def add_recent_files(settings: QSettings, paths: Iterable[str]) -> list[str]:
    new = [os.path.abspath(p) for p in paths]
    merged = new + [p for p in recent_files(settings) if p not in new]
    merged = list(dict.fromkeys(merged))[:MAX_RECENT]
    settings.setValue(_RECENT_KEY, merged)
    entry = "\n".join(new)
    sets = [entry] + ["\n".join(s) for s in recent_sets(settings) if "\n".join(s) != entry]
    settings.setValue(_RECENT_SETS_KEY, sets[:MAX_RECENT])
    return merged


def clear_recent_files(settings: QSettings) -> None:
    settings.setValue(_RECENT_KEY, [])
    settings.setValue(_RECENT_SETS_KEY, [])


def value(settings: QSettings, key: str, default: object, kind: type) -> object:
    """``settings.value`` that survives junk written by another version (falls back to default)."""
    raw = settings.value(key, default)
    try:
        if kind is bool:
            return raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes")
        return kind(raw)
    except (TypeError, ValueError):
        return default
