"""The display and system-library checks that run before Qt is imported (``replayterm doctor``
and the desktop launcher): display variables, a missing library named with its package, and the
one-line message instead of Qt's abort."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from replayterm import system_check

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland checks")

NO_DISPLAY = {
    k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
}


def fake_ldd(directory: Path, missing: list[str]) -> Path:
    """An ``ldd`` that reports ``missing`` as not found for every file it is given."""
    script = directory / "ldd"
    lines = "".join(f'echo "\t{s} => not found"\n' for s in missing)
    script.write_text(
        f'#!/bin/sh\nfor f in "$@"; do\n  echo "$f:"\n  echo "\tlibc.so.6 => /lib/libc.so.6"\n{lines}done\n'
    )
    script.chmod(0o755)
    return script


def test_no_display_variables_is_a_problem() -> None:
    assert "neither DISPLAY nor WAYLAND_DISPLAY" in (system_check.display_problem({}) or "")


def test_offscreen_and_other_displayless_platforms_need_no_display() -> None:
    for platform in ("offscreen", "minimal", "vnc:size=800x600"):
        assert system_check.display_problem({"QT_QPA_PLATFORM": platform}) is None


def test_a_display_nobody_listens_on_is_a_problem() -> None:
    problem = system_check.display_problem({"DISPLAY": ":987"})
    assert problem is not None
    assert "DISPLAY=:987 does not accept connections" in problem


def test_a_listening_x_socket_is_a_display(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(tmp_path / "wayland-9"))
        server.listen()
        env = {"WAYLAND_DISPLAY": "wayland-9", "XDG_RUNTIME_DIR": str(tmp_path)}
        assert system_check.display_problem(env) is None
    assert system_check.display_problem({"QT_QPA_PLATFORM": "wayland", **env}) is not None


def test_platform_list_falls_back_to_the_next_entry() -> None:
    assert system_check.requested_platforms({"QT_QPA_PLATFORM": "wayland;offscreen"}) == [
        "wayland",
        "offscreen",
    ]
    assert system_check.display_problem({"QT_QPA_PLATFORM": "wayland;offscreen"}) is None


def test_missing_libraries_are_named_with_their_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    fake_ldd(tmp_path, ["libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libunheard-of.so.3"])
    missing = system_check.missing_libraries(["xcb"])
    assert [m.soname for m in missing] == ["libunheard-of.so.3", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert missing[1].needed_by == "libqxcb.so"
    commands = system_check.install_commands(missing)
    assert commands[0] == "sudo apt-get install libxcb-icccm4 libxcb-keysyms1"
    assert commands[1] == "sudo dnf install xcb-util-keysyms xcb-util-wm"
    assert "libunheard-of.so.3" in commands[2]


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler to build a library")
def test_real_ldd_finds_a_library_that_is_gone(tmp_path: Path) -> None:
    """A plugin linked against a library that was then removed, checked with the real ldd (this
    machine has every real Qt dependency, so the library has a made-up name)."""
    qt = tmp_path / "Qt"
    (qt / "plugins" / "platforms").mkdir(parents=True)
    (tmp_path / "empty.c").write_text("int icccm_stub(void) { return 0; }\n")
    (tmp_path / "plugin.c").write_text("int icccm_stub(void);\nint plugin(void) { return icccm_stub(); }\n")
    stub = tmp_path / "libgone-for-test.so.4"
    subprocess.run(
        ["cc", "-shared", "-fPIC", "-Wl,-soname,libgone-for-test.so.4", "-o", stub, tmp_path / "empty.c"],
        check=True,
    )
    plugin = qt / "plugins" / "platforms" / "libqxcb.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", plugin, tmp_path / "plugin.c", stub], check=True)
    stub.unlink()
    missing = system_check.missing_libraries(["xcb"], qt)
    assert [(m.soname, m.needed_by) for m in missing] == [("libgone-for-test.so.4", "libqxcb.so")]


def test_the_offscreen_platform_the_suite_runs_on_lacks_nothing() -> None:
    """The real check on the installed Qt: the platform these tests use finds every library."""
    assert system_check.qt_directory() is not None
    assert system_check.missing_libraries(["offscreen"]) == []


def _launch(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "replayterm", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_app_without_a_display_says_so_in_one_line_and_exits_1(tmp_path: Path) -> None:
    env = {**NO_DISPLAY, "REPLAYTERM_CACHE_DIR": str(tmp_path)}
    result = _launch(env)
    assert result.returncode == 1, result.stderr  # Qt's abort would be -6
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "no display" in lines[0]
    assert "xvfb-run" in lines[0]
    assert "headless commands" in lines[0]


def test_app_with_a_missing_library_names_the_package(tmp_path: Path) -> None:
    fake_ldd(tmp_path, ["libxcb-icccm.so.4"])
    env = {
        **NO_DISPLAY,
        "DISPLAY": ":987",
        "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}",
        "REPLAYTERM_CACHE_DIR": str(tmp_path),
    }
    data_file = tmp_path / "whatever.csv.gz"
    data_file.write_bytes(b"")  # exists, so the command line takes it for the app
    result = _launch(env, str(data_file))
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "libxcb-icccm.so.4" in lines[0]
    assert "sudo apt-get install libxcb-icccm4" in lines[0]


def test_doctor_reports_missing_display_and_libraries(tmp_path: Path) -> None:
    fake_ldd(tmp_path, ["libxcb-cursor.so.0"])
    env = {**NO_DISPLAY, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    result = _launch(env, "doctor")
    assert result.returncode == 1
    assert "libxcb-cursor.so.0" in result.stdout
    assert "sudo apt-get install libxcb-cursor0" in result.stdout
    assert "sudo dnf install xcb-util-cursor" in result.stdout
    assert "FAIL  no display" in result.stdout


def test_doctor_passes_offscreen() -> None:
    result = _launch({**NO_DISPLAY, "QT_QPA_PLATFORM": "offscreen"}, "doctor")
    assert result.returncode == 0, result.stdout
    assert "all good" in result.stdout


def test_wayland_session_falls_back_to_x11_when_wayland_libraries_are_missing(tmp_path: Path) -> None:
    script = tmp_path / "ldd"  # only the Wayland plugin lacks a library
    script.write_text(
        '#!/bin/sh\nfor f in "$@"; do\n  echo "$f:"\n  case "$f" in *wayland*) '
        'echo "\tlibwayland-cursor.so.0 => not found";; esac\ndone\n'
    )
    script.chmod(0o755)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as wayland:
        wayland.bind(str(tmp_path / "wayland-0"))
        wayland.listen()
        env = {"WAYLAND_DISPLAY": "wayland-0", "XDG_RUNTIME_DIR": str(tmp_path), "DISPLAY": ":987"}
        old_path = os.environ["PATH"]
        os.environ["PATH"] = f"{tmp_path}{os.pathsep}{old_path}"
        try:
            # X11 has no server either: the Wayland libraries are what to install
            blocker = system_check.gui_blocker(env)
            assert blocker is not None
            assert "sudo apt-get install libwayland-cursor0" in blocker
            # with an X server answering, Qt falls back to X11 and the app starts
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as x11:
                x11.bind(("127.0.0.1", 0))
                x11.listen()
                port = x11.getsockname()[1]
                if port < 6000:
                    pytest.skip("no free port in the X11 range")
                env["DISPLAY"] = f"127.0.0.1:{port - 6000}"
                assert system_check.gui_blocker(env) is None
        finally:
            os.environ["PATH"] = old_path


def test_no_display_also_names_missing_libraries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    fake_ldd(tmp_path, ["libxcb-keysyms.so.1"])
    blocker = system_check.gui_blocker({})
    assert blocker is not None
    assert "no display" in blocker
    assert "sudo apt-get install libxcb-keysyms1" in blocker


class _FailingQtImport:
    """A meta-path finder that makes ``import replayterm.qt.app`` fail with ``message``."""

    def __init__(self, message: str) -> None:
        self.message = message

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "replayterm.qt.app":
            raise ImportError(self.message)
        return None


def test_a_library_ldd_missed_still_gives_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from replayterm import desktop

    monkeypatch.setattr(system_check, "gui_blocker", lambda env=None: None)
    monkeypatch.delitem(sys.modules, "replayterm.qt.app", raising=False)
    monkeypatch.setattr(
        sys, "meta_path", [_FailingQtImport("libEGL.so.1: cannot open shared object file"), *sys.meta_path]
    )
    assert desktop.main([]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "libEGL.so.1" in err[0]
    assert "replayterm doctor" in err[0]


def test_a_bug_in_the_app_is_not_blamed_on_the_system(monkeypatch: pytest.MonkeyPatch) -> None:
    from replayterm import desktop

    monkeypatch.setattr(system_check, "gui_blocker", lambda env=None: None)
    monkeypatch.delitem(sys.modules, "replayterm.qt.app", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_FailingQtImport("cannot import name 'Thing'"), *sys.meta_path])
    with pytest.raises(ImportError, match="Thing"):
        desktop.main([])
