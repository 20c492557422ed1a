"""What ships inside the package: the style sheet, the icon and the sample, read through
importlib.resources; ``replayterm sample --bundled``; the app opening the sample by default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from replayterm import bundled
from replayterm.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_sample_files_are_the_three_bundled_csv_files() -> None:
    files = bundled.sample_files()
    assert [f.name for f in files] == sorted(p.name for p in (REPO / "data").glob("*.csv.gz"))
    assert len(files) == 3
    assert all(f.is_file() and f.stat().st_size > 100_000 for f in files)


def test_resources_come_from_the_package() -> None:
    qss = bundled.resource_text("style.qss")
    assert qss is not None
    assert "QMainWindow" in qss
    icon = bundled.resource_path("icon.svg")
    assert icon is not None
    assert icon.read_text(encoding="utf-8").lstrip().startswith("<svg")
    assert bundled.resource_text("no-such-file.qss") is None
    assert bundled.resource_path("no-such-file.svg") is None


def test_sample_bundled_prints_one_path_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sample", "--bundled"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [str(p) for p in bundled.sample_files()]


def test_sample_needs_out_dir_or_bundled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sample"]) == 2
    assert "--bundled" in capsys.readouterr().err
    assert main(["sample", str(tmp_path), "--bundled"]) == 2
    assert not any(tmp_path.iterdir())


def test_a_zipped_package_gets_its_sample_copied_to_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the package is not on a file system (a zip), the files are extracted once."""
    import zipfile
    from importlib.resources.abc import Traversable

    archive = tmp_path / "pkg.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("data/a.csv.gz", b"abc")
        z.writestr("data/README.md", b"x")
    root: Traversable = zipfile.Path(archive, "data/")
    monkeypatch.setattr(bundled, "_package_files", lambda package: root)
    monkeypatch.setattr(bundled.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    files = bundled.sample_files()
    assert [f.name for f in files] == ["a.csv.gz"]
    assert files[0].read_bytes() == b"abc"
    assert bundled.sample_files() == files


def test_app_without_files_opens_the_bundled_sample_and_quits(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "REPLAYTERM_QUIT_AFTER": "3",
        "REPLAYTERM_CACHE_DIR": str(tmp_path / "cache"),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / ".config"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "replayterm"], env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr
    assert "SYNTHUSD: 101,172 events" in result.stderr
