"""Finding strategies: by ``.py`` path (importlib, no sys.path edits) or by registered name.

Installed packages register strategies in the ``replayterm.strategies`` entry-point group; the
built-in examples are registered the same way.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
import traceback
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType

from replayterm.core.strategy.base import Strategy

ENTRY_POINT_GROUP = "replayterm.strategies"


class StrategyLoadError(Exception):
    """A strategy could not be loaded; the message says which file or name and why."""


def _builtins() -> dict[str, str]:
    # Imported here: the core does not depend on the built-in strategies, it only knows their names.
    from replayterm.strategies import BUILTINS

    return dict(BUILTINS)


def available_strategies() -> dict[str, str]:
    """Registered strategy names -> 'module:Class' targets (entry points, then the built-ins)."""
    found = _builtins()
    found.update({ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)})
    return found


def load_strategy_class(spec: str | Path) -> type[Strategy]:
    """A Strategy subclass from a ``.py`` path (``path.py`` or ``path.py:ClassName``) or a name."""
    text = str(spec)
    path_text, _, class_name = (
        text.partition(":") if text.count(":") == 1 and ".py:" in text else (text, "", "")
    )
    path = Path(path_text)
    if path.suffix == ".py" or path.exists():
        return _class_from_module(load_module_from_path(path), class_name or None, str(path))
    targets = available_strategies()
    if text in targets:
        target = EntryPoint(text, targets[text], ENTRY_POINT_GROUP)
        try:
            obj = target.load()
        except Exception as exc:
            raise StrategyLoadError(f"strategy '{text}' failed to import: {exc}") from exc
        if not (inspect.isclass(obj) and issubclass(obj, Strategy)):
            raise StrategyLoadError(f"entry point '{text}' is not a Strategy subclass")
        return obj
    known = ", ".join(sorted(available_strategies())) or "none"
    raise StrategyLoadError(f"no strategy file or registered strategy named '{text}' (registered: {known})")


def load_module_from_path(path: Path) -> ModuleType:
    """Import a plugin file under a private module name (fresh on every call: hot reload)."""
    path = path.expanduser().resolve()
    if not path.is_file():
        raise StrategyLoadError(f"{path}: no such strategy file")
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
    module_name = f"replayterm_plugin_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise StrategyLoadError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling look the module up by name
    try:
        # Compiled from the text on disk, not through the bytecode cache: that cache trusts the
        # file's mtime (whole seconds) and size, so a quick same-size save could reload old code.
        code = compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
        exec(code, module.__dict__)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        tb = "".join(traceback.format_exception(exc, limit=-3))
        raise StrategyLoadError(f"{path}: importing the strategy failed:\n{tb}") from exc
    return module


def _class_from_module(module: ModuleType, class_name: str | None, where: str) -> type[Strategy]:
    found = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, Strategy)
        and obj is not Strategy
        and obj.__module__ == module.__name__
    ]
    if class_name:
        for obj in found:
            if obj.__name__ == class_name:
                return obj
        raise StrategyLoadError(f"{where}: no Strategy subclass named {class_name}")
    if not found:
        raise StrategyLoadError(f"{where}: defines no subclass of replayterm.core.strategy.Strategy")
    if len(found) > 1:
        names = ", ".join(sorted(o.__name__ for o in found))
        raise StrategyLoadError(
            f"{where}: defines several strategies ({names}); pick one with {where}:ClassName"
        )
    return found[0]


def reload_strategy_class(cls: type[Strategy]) -> type[Strategy]:
    """The class of the same name freshly imported from the file that defines ``cls`` (hot reload:
    the file's current code). Raises StrategyLoadError when the file is gone or broken."""
    try:
        source = inspect.getsourcefile(cls)
    except TypeError:
        source = None
    if source is None or not Path(source).is_file():
        raise StrategyLoadError(f"{cls.__qualname__} was not loaded from a file, so it cannot be reloaded")
    return _class_from_module(load_module_from_path(Path(source)), cls.__name__, source)
