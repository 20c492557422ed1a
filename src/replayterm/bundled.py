"""Files that ship inside the installed package: the style sheet, the icon and the sample market.

The repository keeps them in the top-level ``resources/`` and ``data/`` folders; the build maps
those folders into the package as ``replayterm.resources`` and ``replayterm.data`` (see
``setup.py``), so an editable checkout, a wheel and a frozen bundle all find them here through
``importlib.resources``, never through paths relative to the source tree.
"""

from __future__ import annotations

import shutil
import tempfile
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from replayterm import __version__

RESOURCES_PACKAGE = "replayterm.resources"
SAMPLE_PACKAGE = "replayterm.data"
SAMPLE_SUFFIX = ".csv.gz"


def _package_files(package: str) -> Traversable | None:
    try:
        return resources.files(package)
    except ModuleNotFoundError:  # a build that left the folder out
        return None


def resource_text(name: str) -> str | None:
    """The text of ``resources/<name>``, or None when the installed package lacks it."""
    root = _package_files(RESOURCES_PACKAGE)
    if root is None or not root.joinpath(name).is_file():
        return None
    return root.joinpath(name).read_text(encoding="utf-8")


def resource_path(name: str) -> Path | None:
    """A file-system path to ``resources/<name>`` (for APIs that take a path), or None."""
    root = _package_files(RESOURCES_PACKAGE)
    if root is None or not root.joinpath(name).is_file():
        return None
    return _on_disk(root, [name])[0]


def sample_files() -> list[Path]:
    """The bundled sample's CSV files (book ticker, incremental L2, trades), sorted by name."""
    root = _package_files(SAMPLE_PACKAGE)
    if root is None:
        return []
    names = sorted(t.name for t in root.iterdir() if t.name.endswith(SAMPLE_SUFFIX) and t.is_file())
    return _on_disk(root, names) if names else []


def _on_disk(root: Traversable, names: list[str]) -> list[Path]:
    """Paths to ``names`` under ``root``: the installed files themselves when the package sits
    on a file system (wheel, editable, frozen bundle); otherwise (a zipped package) copies in a
    per-version temporary folder, made once."""
    if isinstance(root, Path):
        return [root / name for name in names]
    target = Path(tempfile.gettempdir()) / f"replayterm-{__version__}-{root.name}"
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        path = target / name
        if not path.is_file():
            partial = path.with_name(path.name + ".part")
            with root.joinpath(name).open("rb") as src, partial.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            partial.replace(path)
        paths.append(path)
    return paths
