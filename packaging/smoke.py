"""Smoke tests of an installed ReplayTerm, run outside the checkout.

    python packaging/smoke.py wheel             # build the wheel, install it into a fresh venv, test it
    python packaging/smoke.py bundle [DIST_DIR] # test the PyInstaller one-folder app (make bundle)

Each runs the installed ``replayterm``: ``--version``, ``doctor`` (offscreen), ``sample --bundled``
(the sample must come from the install, not from this checkout), a headless backtest on that
sample, and the desktop app offscreen for a few seconds (REPLAYTERM_QUIT_AFTER) which must open
the sample and quit cleanly. Every step runs in a temporary folder with a private cache.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
APP_SECONDS = 6
passed_steps = 0  # commands that ran and checked out, for the closing "N passed, N failed" line


def run(
    cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    started = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    print(
        f"  {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))}"
        f"  -> {result.returncode} ({time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    if result.returncode != 0:
        sys.stdout.write(result.stdout[-4000:])
        sys.stderr.write(result.stderr[-4000:])
        raise SystemExit(f"smoke test failed: {' '.join(cmd)} exited {result.returncode}")
    global passed_steps
    passed_steps += 1
    return result


def clean_env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["REPLAYTERM_CACHE_DIR"] = str(work / "cache")
    env["HOME"] = str(work / "home")  # settings and recent files of the app stay in the temp folder
    env["XDG_CONFIG_HOME"] = str(work / "home" / ".config")
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def check_installed(replayterm: str, work: Path, env: dict[str, str]) -> None:
    """The checks shared by the wheel and the bundle."""
    version = run([replayterm, "--version"], work, env).stdout.strip()
    if not version.startswith("replayterm "):
        raise SystemExit(f"unexpected --version output: {version!r}")
    run([replayterm, "doctor"], work, env)

    sample = run([replayterm, "sample", "--bundled"], work, env).stdout.split("\n")
    files = [Path(line) for line in sample if line.strip()]
    if len(files) != 3 or not all(f.is_file() for f in files):
        raise SystemExit(f"sample --bundled printed {files}")
    if any(f.resolve().is_relative_to(REPO / "data") for f in files):
        raise SystemExit(f"the bundled sample comes from the checkout, not the install: {files}")

    out = work / "backtest"
    window = ["--to", "2024-01-02T00:02:00Z"]
    run(
        [replayterm, "backtest", *map(str, files), "--strategy", "market_maker", *window, "--out", str(out)],
        work,
        env,
    )
    summary = json.loads((out / "summary.json").read_text())
    if not summary:
        raise SystemExit("backtest wrote an empty summary.json")

    app_env = {**env, "REPLAYTERM_QUIT_AFTER": str(APP_SECONDS)}
    result = run([replayterm], work, app_env, timeout=APP_SECONDS + 120)
    if "SYNTHUSD" not in result.stderr or " events" not in result.stderr:
        sys.stderr.write(result.stderr[-4000:])
        raise SystemExit("the app did not report opening the bundled sample")


def wheel(work: Path) -> None:
    env = clean_env(work)
    dist = work / "dist"
    print(f"building the wheel into {dist}", flush=True)
    # setuptools builds in the checkout's build/lib; a stale copy would ship deleted modules
    shutil.rmtree(REPO / "build" / "lib", ignore_errors=True)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(REPO)], work, env)
    shutil.rmtree(REPO / "build" / "lib", ignore_errors=True)
    wheels = glob.glob(str(dist / "replayterm-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel, found {wheels}")
    venv = work / "venv"
    base_python = getattr(sys, "_base_executable", sys.executable)
    run([base_python, "-m", "venv", str(venv)], work, env)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = str(bin_dir / "python")
    run(
        [python, "-m", "pip", "install", "--quiet", "-c", str(REPO / "constraints.txt"), wheels[0]], work, env
    )
    where = run(
        [python, "-c", "import replayterm, sys; print(replayterm.__file__)"], work, env
    ).stdout.strip()
    if Path(where).resolve().is_relative_to(REPO / "src"):
        raise SystemExit(f"the venv imports replayterm from the checkout: {where}")
    check_installed(str(bin_dir / "replayterm"), work, env)


def bundle(work: Path, dist_dir: Path) -> None:
    exe = dist_dir.resolve() / ("replayterm.exe" if os.name == "nt" else "replayterm")
    if not exe.is_file():
        raise SystemExit(f"no frozen app at {exe}: run `make bundle` first")
    check_installed(str(exe), work, clean_env(work))


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("wheel", "bundle"):
        print(__doc__)
        return 2
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="replayterm-smoke-") as tmp:
            work = Path(tmp)
            (work / "home").mkdir()
            if argv[0] == "wheel":
                wheel(work)
            else:
                bundle(work, Path(argv[1]) if len(argv) > 1 else REPO / "dist" / "replayterm")
    except SystemExit as failure:
        print(failure, file=sys.stderr)
        print(f"{argv[0]}: {passed_steps} passed, 1 failed")
        return 1
    print(f"{argv[0]} smoke test took {time.perf_counter() - started:.0f} s")
    print(f"{argv[0]}: {passed_steps} passed, 0 failed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
