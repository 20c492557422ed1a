"""``replayterm doctor``: can this machine run the desktop app? What to install if not."""

from __future__ import annotations

import argparse
import os
import platform
import sys

from replayterm import __version__, bundled, system_check


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check the display and the system libraries the desktop app needs",
        description="Check that the desktop app can start here: Qt's libraries and platform plugins "
        "find every system library they link (missing ones are named with the package to install), "
        "a display is reachable, and the bundled sample and style sheet are installed. "
        "Exit code 1 when something is missing.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ok = True
    print(f"replayterm {__version__}, Python {platform.python_version()} on {sys.platform}")

    qt_dir = system_check.qt_directory()
    if qt_dir is None:
        print("FAIL  PySide6 is not installed in this Python (pip install replayterm pulls it in)")
        ok = False
    else:
        print(f"ok    Qt libraries: {qt_dir}")

    platforms = system_check.effective_platforms(os.environ)
    checked = [p for p in platforms if p in system_check.DISPLAY_VARIABLE or p == "offscreen"]
    # A desktop session may use X11 or Wayland: check the X11 plugin even where Wayland is first.
    if "xcb" not in checked and not system_check.requested_platforms(os.environ):
        checked.append("xcb")
    missing = system_check.missing_libraries(checked or None, qt_dir)
    if missing:
        ok = False
        print(
            f"FAIL  missing system libraries (checked the {', '.join(checked or ['xcb'])} platform plugin):"
        )
        for m in missing:
            print(
                f"        {m.soname:<26} needed by {m.needed_by:<22} Debian/Ubuntu: {m.debian_package or '?'}"
            )
        print("      install them with:")
        for line in system_check.install_commands(missing):
            print(f"        {line}")
    elif qt_dir is not None and sys.platform.startswith("linux"):
        print(f"ok    system libraries for the {', '.join(checked or ['xcb'])} platform plugin")

    problem = system_check.display_problem()
    if problem:
        ok = False
        print(f"FAIL  {problem}")
        print("      run the app in a desktop session (or `ssh -X`), under `xvfb-run replayterm`,")
        print("      or with QT_QPA_PLATFORM=offscreen for a window-less run")
    else:
        print(f"ok    display: {_display_description()}")

    sample = bundled.sample_files()
    style = bundled.resource_text("style.qss")
    if sample and style is not None:
        print(f"ok    bundled sample ({len(sample)} files) and style sheet installed")
    else:
        ok = False
        print("FAIL  the installed package lacks its bundled sample or style sheet (a broken build)")

    print("all good: `replayterm` opens the desktop app" if ok else system_check.HEADLESS_NOTE)
    return 0 if ok else 1


def _display_description() -> str:
    if sys.platform in ("darwin", "win32"):
        return "native"
    requested = os.environ.get("QT_QPA_PLATFORM")
    if requested:
        return f"QT_QPA_PLATFORM={requested}"
    parts = [f"{v}={os.environ[v]}" for v in ("WAYLAND_DISPLAY", "DISPLAY") if os.environ.get(v)]
    return ", ".join(parts)
