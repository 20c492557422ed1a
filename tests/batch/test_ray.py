"""The same sweep on an embedded local Ray runtime (skipped when Ray is not installed), the
node-local copies of shipped files, and the message when Ray is missing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from replayterm.batch import DIED, FAILED, OK, LocalPool, RunConfig, plan_sweep, run_sweep
from replayterm.batch.ray_backend import node_copy
from replayterm.cli import main
from replayterm.core.execution import ConstantLatency
from replayterm.core.session import SessionSettings

SETTINGS = SessionSettings(latency=ConstantLatency(2000, 500))


@pytest.fixture(scope="module")
def ray_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ray-node-files")


@pytest.fixture(scope="module")
def ray_local(ray_files: Path) -> Iterator[object]:
    pytest.importorskip("ray")
    from replayterm.batch.ray_backend import RayBackend

    # Ray's workers inherit the environment of the process that starts the runtime.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REPLAYTERM_RAY_FILES", str(ray_files))
        backend = RayBackend("local", 2)
    yield backend
    backend.close()


@pytest.mark.slow  # tens of seconds; `make test` runs it, `pytest -m "not slow"` skips it
def test_ray_local_gives_the_rows_of_the_process_pool(
    ray_local: object, ray_files: Path, days_data: list[str], tmp_path: Path
) -> None:
    from replayterm.batch.ray_backend import RayBackend

    assert isinstance(ray_local, RayBackend)
    plan = plan_sweep(days_data, "market_maker", [("requote_ms", ["50", "200"])], per_day=True)
    config = RunConfig("market_maker", SETTINGS)
    pool = run_sweep(plan, config, LocalPool(2), tmp_path / "pool")
    ray = run_sweep(plan, config, ray_local, tmp_path / "ray")
    assert ray.finished == 6
    assert all(r["status"] == OK for r in ray.rows), [(r["status"], r["error"]) for r in ray.rows]
    assert (tmp_path / "pool" / "sweep.csv").read_bytes() == (tmp_path / "ray" / "sweep.csv").read_bytes()

    # As on a cluster: the files travel through the object store and are copied once per node.
    ray_local.ship_files = True
    try:
        shipped = run_sweep(plan, config, ray_local, tmp_path / "shipped")
    finally:
        ray_local.ship_files = False
    assert shipped.rows == pool.rows
    copies = sorted(p.name for p in ray_files.glob("*/*.csv.gz"))
    assert copies == sorted(Path(f).name for f in days_data)  # one copy of each file on this node
    assert (tmp_path / "pool" / "sweep.csv").read_bytes() == (tmp_path / "shipped" / "sweep.csv").read_bytes()


def test_ray_records_a_run_whose_worker_dies(
    ray_local: object, days_data: list[str], faulty_strategy: str, tmp_path: Path
) -> None:
    day = [f for f in days_data if "2024-03-04" in f]
    plan = plan_sweep(day, faulty_strategy, [("mode", ["ok", "exit", "raise"])])
    result = run_sweep(plan, RunConfig(faulty_strategy, SETTINGS), ray_local, tmp_path / "out")  # type: ignore[arg-type]
    assert [r["status"] for r in result.rows] == [OK, DIED, FAILED]
    assert "died" in result.rows[1]["error"]


def test_node_copy_fetches_a_file_once(tmp_path: Path) -> None:
    calls: list[int] = []

    def fetch() -> bytes:
        calls.append(1)
        return b"data"

    first = node_copy("book.csv.gz", "abc", fetch, tmp_path)
    second = node_copy("book.csv.gz", "abc", fetch, tmp_path)
    assert first == second == str(tmp_path / "abc" / "book.csv.gz")
    assert Path(first).read_bytes() == b"data"
    assert len(calls) == 1


def test_without_ray_the_option_says_how_to_install_it(
    days_data: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    args = ["sweep", *days_data[:2], "-s", "market_maker", "--ray", "local", "--out", str(tmp_path / "o")]
    assert main(args) == 2
    assert "pip install 'replayterm[ray]'" in capsys.readouterr().err
