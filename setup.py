"""Build-time layout only (everything else is in pyproject.toml).

The repository keeps ``resources/`` (style sheet, icon) and ``data/`` (the bundled sample) at the
top level; wheels and editable installs map them into the package as ``replayterm.resources``
and ``replayterm.data``, which the app reads through ``importlib.resources``. pyproject.toml
cannot combine package discovery with mapping extra folders into a package, hence this file.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages("src"), "replayterm.resources", "replayterm.data"],
    package_dir={"": "src", "replayterm.resources": "resources", "replayterm.data": "data"},
)
