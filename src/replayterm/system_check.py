"""Can the desktop app start here? Display and system-library checks that never import Qt.

Qt aborts the whole process when its platform plugin cannot load (a missing ``libxcb-*`` library)
or when there is no display, with a message that often names the wrong package. The app runs
these checks before it creates the ``QApplication`` and ``replayterm doctor`` prints them in full:
the platform plugin and the Qt libraries the app loads are run through ``ldd`` and every missing
library is named with the Debian/Ubuntu and Fedora package that provides it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# Shared libraries that PySide6's wheels link (the platform plugins and the Qt modules the app
# imports) and that a bare system may lack: soname -> (Debian/Ubuntu package, Fedora package).
# Built from `readelf -d` on the wheel's libraries and `dpkg -S` on Debian 12.
PACKAGES: dict[str, tuple[str, str]] = {
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libwayland-client.so.0": ("libwayland-client0", "libwayland-client"),
    "libwayland-cursor.so.0": ("libwayland-cursor0", "libwayland-cursor"),
    "libwayland-egl.so.1": ("libwayland-egl1", "libwayland-egl"),
    "libzstd.so.1": ("libzstd1", "libzstd"),
    "libz.so.1": ("zlib1g", "zlib-ng-compat"),
    "libstdc++.so.6": ("libstdc++6", "libstdc++"),
    "libgcc_s.so.1": ("libgcc-s1", "libgcc"),
}

# Platform plugins that need a windowing system, and the variable that points at it.
DISPLAY_VARIABLE = {"xcb": "DISPLAY", "wayland": "WAYLAND_DISPLAY", "wayland-egl": "WAYLAND_DISPLAY"}
# Qt libraries the app loads besides the ones the platform plugin pulls in.
APP_QT_LIBRARIES = ("libQt6Widgets.so.6", "libQt6Svg.so.6", "libQt6OpenGL.so.6")

HEADLESS_NOTE = "headless commands (replayterm info, book, export, backtest, sample) still work"


@dataclass(frozen=True)
class MissingLibrary:
    soname: str
    needed_by: str  # file name of the Qt library or plugin that links it

    @property
    def debian_package(self) -> str | None:
        return PACKAGES.get(self.soname, (None, None))[0]

    @property
    def fedora_package(self) -> str | None:
        return PACKAGES.get(self.soname, (None, None))[1]


def qt_directory() -> Path | None:
    """PySide6's ``Qt`` folder, found without importing PySide6 (which may be what fails)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    package = Path(next(iter(spec.submodule_search_locations)))
    qt = package / "Qt"  # Linux and macOS wheels; Windows wheels keep Qt in the package itself
    return qt if qt.is_dir() else package if package.is_dir() else None


def requested_platforms(env: Mapping[str, str]) -> list[str]:
    """Qt platform plugin names the app will try, in order (``QT_QPA_PLATFORM`` may list several,
    separated by ``;``, each with ``:options``). Empty means Qt's default for this session."""
    value = env.get("QT_QPA_PLATFORM", "").strip()
    return [part.split(":", 1)[0].strip() for part in value.split(";") if part.strip()]


def _default_platforms(env: Mapping[str, str]) -> list[str]:
    if env.get("WAYLAND_DISPLAY") or env.get("XDG_SESSION_TYPE") == "wayland":
        return ["wayland", "xcb"]
    return ["xcb"]


def effective_platforms(env: Mapping[str, str]) -> list[str]:
    return requested_platforms(env) or _default_platforms(env)


def display_reachable(variable: str, value: str, env: Mapping[str, str]) -> bool:
    """Whether the X server or Wayland compositor that ``value`` names accepts a connection."""
    if variable == "WAYLAND_DISPLAY":
        path = Path(value)
        if not path.is_absolute():
            path = Path(env.get("XDG_RUNTIME_DIR", f"/run/user/{os.getuid()}")) / value
        return _connects(socket.AF_UNIX, str(path))
    host, _, rest = value.rpartition(":")
    number = rest.split(".", 1)[0]
    if not number.isdigit():
        return True  # an address we cannot parse: let Qt decide
    if host in ("", "unix") or host.startswith("/"):
        if host.startswith("/"):  # launchd-style socket path (macOS XQuartz)
            return Path(value).exists()
        socket_path = f"/tmp/.X11-unix/X{number}"
        return _connects(socket.AF_UNIX, socket_path) or _connects(socket.AF_UNIX, "\0" + socket_path)
    return _connects(socket.AF_INET, (host, 6000 + int(number)))


def _connects(family: int, address: str | tuple[str, int]) -> bool:
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(1.0)
            s.connect(address)
        return True
    except OSError:
        return False


def platform_display_problem(platform: str, env: Mapping[str, str]) -> str | None:
    """Why ``platform`` cannot reach its display, or None (also for platforms that need none)."""
    variable = DISPLAY_VARIABLE.get(platform)
    if variable is None:
        return None  # offscreen, minimal, vnc, eglfs...: no display needed
    value = env.get(variable, "")
    if not value:
        return f"{variable} is not set"
    if not display_reachable(variable, value, env):
        return f"{variable}={value} does not accept connections"
    return None


def display_problem(env: Mapping[str, str] | None = None) -> str | None:
    """What stops Qt from reaching a display, or None when a requested platform can start.

    Only Linux and other X11/Wayland systems are checked; macOS and Windows always have one.
    """
    env = os.environ if env is None else env
    if sys.platform in ("darwin", "win32"):
        return None
    problems = []
    for platform in effective_platforms(env):
        problem = platform_display_problem(platform, env)
        if problem is None:
            return None
        problems.append(problem)
    if not requested_platforms(env) and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    return "no usable display (" + "; ".join(problems) + ")"


def missing_libraries(platforms: list[str] | None = None, qt_dir: Path | None = None) -> list[MissingLibrary]:
    """System libraries that the Qt platform plugins and Qt modules the app loads cannot find.

    Runs ``ldd`` (Linux only; an empty list elsewhere or when ``ldd`` is absent).
    """
    if not sys.platform.startswith("linux"):
        return []
    qt_dir = qt_directory() if qt_dir is None else qt_dir
    ldd = shutil.which("ldd")
    if qt_dir is None or ldd is None:
        return []
    files = [qt_dir / "plugins" / "platforms" / f"libq{p}.so" for p in platforms or ["xcb"]]
    files += [qt_dir / "lib" / name for name in APP_QT_LIBRARIES]
    files = [f for f in files if f.is_file()]
    if not files:
        return []
    try:  # one ldd for all files: with several, it prints "path:" before each one's list
        out = subprocess.run([ldd, *map(str, files)], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    missing: dict[str, MissingLibrary] = {}
    current = files[0].name
    for line in out.splitlines():
        if not line.startswith(("\t", " ")) and line.endswith(":"):
            current = Path(line[:-1]).name
        elif "=> not found" in line:
            soname = line.split("=>", 1)[0].strip()
            missing.setdefault(soname, MissingLibrary(soname, current))
    return sorted(missing.values(), key=lambda m: m.soname)


def install_commands(missing: list[MissingLibrary]) -> list[str]:
    """``apt-get`` and ``dnf`` lines that install what ``missing`` names."""
    debian = sorted({m.debian_package for m in missing if m.debian_package})
    fedora = sorted({m.fedora_package for m in missing if m.fedora_package})
    lines = []
    if debian:
        lines.append("sudo apt-get install " + " ".join(debian))
    if fedora:
        lines.append("sudo dnf install " + " ".join(fedora))
    unknown = sorted(m.soname for m in missing if not m.debian_package)
    if unknown:
        lines.append("(and the packages that provide " + ", ".join(unknown) + ")")
    return lines


def gui_blocker(env: Mapping[str, str] | None = None) -> str | None:
    """One line saying why the desktop app cannot start here and how to fix it, or None.

    Qt tries the platforms in order (Wayland, then X11, in a Wayland session), so the app is
    blocked only when none of them has both its libraries and a reachable display.
    """
    env = os.environ if env is None else env
    if sys.platform in ("darwin", "win32"):
        return None
    platforms = effective_platforms(env)
    if any(p not in DISPLAY_VARIABLE and p != "offscreen" for p in platforms):
        return None  # a platform we do not check (vnc, eglfs...): Qt decides
    checks = [(missing_libraries([p]), platform_display_problem(p, env)) for p in platforms]
    if any(not missing and problem is None for missing, problem in checks):
        return None
    for missing, problem in checks:
        if problem is None:  # a display is there, the libraries are not
            return _missing_message(missing)
    lacking: list[MissingLibrary] = []
    for missing, _ in checks:
        lacking += [m for m in missing if m not in lacking]
    problem = display_problem(env) or "no usable display"
    also = ""
    if lacking:
        also = f" (it also lacks {', '.join(m.soname for m in lacking)}: `{install_commands(lacking)[0]}`)"
    return (
        f"replayterm: cannot start the desktop app: {problem}{also}; run it inside a desktop session "
        "(or `ssh -X`), under `xvfb-run replayterm`, or with QT_QPA_PLATFORM=offscreen for a "
        f"window-less run; {HEADLESS_NOTE}."
    )


def _missing_message(missing: list[MissingLibrary]) -> str:
    names = ", ".join(m.soname for m in missing)
    return (
        f"replayterm: cannot start the desktop app: missing system libraries {names}; install them "
        f"with `{install_commands(missing)[0]}` (`replayterm doctor` lists everything); {HEADLESS_NOTE}."
    )
