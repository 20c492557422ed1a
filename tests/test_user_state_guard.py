"""The guard in conftest fails any test that reaches the user's cache or settings (issue 19, item 14)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

CULPRITS = """
import pytest
from replayterm.core.data.cache import cache_dir
from replayterm.qt.settings import open_settings


def test_undo_drops_the_private_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # also undoes the private REPLAYTERM_CACHE_DIR
    cache_dir().mkdir(parents=True)


def test_settings_without_a_private_file() -> None:
    s = open_settings()
    s.setValue("files/last_dir", "/tmp")
    s.sync()


def test_a_subprocess_without_the_private_cache() -> None:
    import os, subprocess, sys
    env = {k: v for k, v in os.environ.items() if k != "REPLAYTERM_CACHE_DIR"}
    code = "from replayterm.core.data.cache import cache_dir; cache_dir().mkdir(parents=True)"
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def test_a_well_behaved_test() -> None:
    cache_dir().mkdir(parents=True, exist_ok=True)
"""


def test_a_test_touching_the_user_cache_or_settings_fails(tmp_path: Path) -> None:
    for name in ("conftest.py", "user_state_guard.py"):
        shutil.copy(TESTS / name, tmp_path / name)
    (tmp_path / "test_culprits.py").write_text(CULPRITS)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    for variable in ("REPLAYTERM_CACHE_DIR", "REPLAYTERM_SETTINGS"):
        env.pop(variable, None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "4 passed, 3 errors" in out, out
    for culprit in ("undo_drops", "settings_without", "a_subprocess_without"):
        assert f"test_{culprit}" in out.split("short test summary", 1)[-1], out
    assert "wrote into the user's own folders" in out
    assert "test_a_well_behaved_test" not in out.split("short test summary", 1)[-1]
