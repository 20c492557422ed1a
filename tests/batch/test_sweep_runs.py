"""Sweeps on real worker processes: the same rows with 1 and 2 workers, rows equal to a plain
``backtest`` of the same parameters, walk-forward output, and what happens when runs misbehave."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from replayterm.batch import DIED, FAILED, OK, LocalPool, RunConfig, plan_sweep, run_sweep
from replayterm.cli import main
from replayterm.core.execution import ConstantLatency, FeeSchedule
from replayterm.core.session import SessionSettings

SETTINGS = SessionSettings(latency=ConstantLatency(2000, 500), fees=FeeSchedule.from_bps(-0.5, 4.0))
EXEC_ARGS = ["--latency-us", "2000,500", "--fees-bps=-0.5,4"]
GRID = [("requote_ms", ["50", "200"]), ("size", ["0.01", "0.03"])]


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_rows_are_identical_with_one_and_two_workers(days_data: list[str], tmp_path: Path) -> None:
    plan = plan_sweep(days_data, "market_maker", GRID, {"max_position": "0.1"}, per_day=True)
    assert len(plan.jobs) == 12
    assert [j.day for j in plan.jobs[:5]] == ["2024-03-04"] * 4 + ["2024-03-05"]
    config = RunConfig("market_maker", SETTINGS)
    one = run_sweep(plan, config, LocalPool(1), tmp_path / "one")
    two = run_sweep(plan, config, LocalPool(2), tmp_path / "two")
    assert two.rows == one.rows
    assert not one.cancelled
    assert one.finished == 12
    assert all(r["status"] == OK for r in one.rows)
    assert any(r["fills"] > 0 for r in one.rows)
    assert (tmp_path / "one" / "sweep.csv").read_bytes() == (tmp_path / "two" / "sweep.csv").read_bytes()
    assert pq.read_table(tmp_path / "one" / "sweep.parquet").equals(
        pq.read_table(tmp_path / "two" / "sweep.parquet")
    )
    table = pq.read_table(tmp_path / "one" / "sweep.parquet")
    assert str(table.schema.field("requote_ms").type) == "int64"
    assert str(table.schema.field("size").type) == "double"
    assert table.column("day").to_pylist()[:4] == ["2024-03-04"] * 4


def test_a_row_equals_a_backtest_of_the_same_parameters(days_data: list[str], tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    args = ["sweep", *days_data, "-s", "market_maker", "-g", "requote_ms=50,200", "-p", "size=0.02"]
    args += ["--per-day", *EXEC_ARGS, "--out", str(out), "--workers", "2", "--keep-runs"]
    assert main(args) == 0
    rows = read_rows(out / "sweep.csv")
    assert [(r["requote_ms"], r["day"]) for r in rows][:3] == [
        ("50", "2024-03-04"),
        ("200", "2024-03-04"),
        ("50", "2024-03-05"),
    ]
    row = rows[3]  # requote_ms=200 on the second day
    day_files = [f for f in days_data if "2024-03-05" in f]
    bt = tmp_path / "bt"
    assert main(["backtest", *day_files, "-s", "market_maker", "-p", "requote_ms=200", "-p", "size=0.02",
                 *EXEC_ARGS, "--out", str(bt)]) == 0  # fmt: skip
    metrics: dict[str, Any] = json.loads((bt / "summary.json").read_text())["strategies"][0]["metrics"]
    assert int(row["fills"]) == metrics["fills"] > 0
    for name, value in metrics.items():
        cell = row[name]
        if isinstance(value, str):
            assert cell == value, name
        else:
            assert (cell == "" and value is None) or float(cell) == value, name
    # --keep-runs: that run's own backtest files, with the same fills as the backtest
    kept = out / "runs" / "00003"
    assert (kept / "fills.csv").read_bytes() == (bt / "fills.csv").read_bytes()
    assert json.loads((kept / "summary.json").read_text())["strategies"][0]["metrics"] == metrics


def test_walk_forward_tests_the_combination_chosen_on_the_days_before(
    days_data: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "wf"
    args = ["sweep", *days_data, "-s", "market_maker", "-g", "requote_ms=50,200", "-g", "size=0.01,0.03"]
    args += ["--walk-forward", "1,1", "--metric", "net_pnl", *EXEC_ARGS, "--out", str(out), "-j", "2"]
    assert main(args) == 0
    rows = read_rows(out / "sweep.csv")
    wf = read_rows(out / "walk_forward.csv")
    assert [(w["split"], w["train_from"], w["day"]) for w in wf] == [
        ("0", "2024-03-04", "2024-03-05"),
        ("1", "2024-03-05", "2024-03-06"),
    ]
    for w in wf:
        train = [r for r in rows if r["day"] == w["train_from"]]
        best = max(train, key=lambda r: (float(r["net_pnl"]), -int(r["run"])))
        assert float(w["train_net_pnl"]) == float(best["net_pnl"])
        test = next(r for r in rows if r["day"] == w["day"] and r["requote_ms"] == best["requote_ms"]
                    and r["size"] == best["size"])  # fmt: skip
        assert w["run"] == test["run"]
        assert w["net_pnl"] == test["net_pnl"]
    assert pq.read_table(out / "walk_forward.parquet").num_rows == 2


def test_runs_that_raise_or_kill_their_worker_are_recorded_and_the_sweep_goes_on(
    days_data: list[str], faulty_strategy: str, tmp_path: Path
) -> None:
    day = [f for f in days_data if "2024-03-04" in f]
    plan = plan_sweep(
        day, faulty_strategy, [("mode", ["ok", "raise", "ctor", "exit"]), ("size", ["0.01", "0.02"])]
    )
    result = run_sweep(plan, RunConfig(faulty_strategy, SETTINGS), LocalPool(2), tmp_path / "out")
    by_mode: dict[str, list[dict[str, Any]]] = {}
    for r in result.rows:
        by_mode.setdefault(r["mode"], []).append(r)
    assert result.finished == 8
    assert not result.cancelled
    assert all(r["status"] == OK and r["fills"] == 2 for r in by_mode["ok"])
    assert all(r["status"] == FAILED and "boom at message 100" in r["error"] for r in by_mode["raise"])
    assert all(r["fills"] == 2 for r in by_mode["raise"])  # metrics up to the failure
    assert all(r["status"] == FAILED and "refuses to start" in r["error"] for r in by_mode["ctor"])
    assert all(r["fills"] == 0 for r in by_mode["ctor"])
    assert all(r["status"] == DIED and "died" in r["error"] for r in by_mode["exit"])
    assert len(read_rows(tmp_path / "out" / "sweep.csv")) == 8


def test_stopping_keeps_the_finished_rows(days_data: list[str], faulty_strategy: str, tmp_path: Path) -> None:
    day = [f for f in days_data if "2024-03-04" in f]
    plan = plan_sweep(day, faulty_strategy, [("mode", ["ok", "slow"]), ("size", ["0.01", "0.02", "0.03"])])
    seen: list[dict[str, Any]] = []
    result = run_sweep(
        plan,
        RunConfig(faulty_strategy, SETTINGS),
        LocalPool(2),
        tmp_path / "out",
        on_row=lambda row, done, total: seen.append(row),
        stop=lambda: any(r["mode"] == "ok" for r in seen),
    )
    assert result.cancelled
    assert 1 <= result.finished < 6
    assert all(r["mode"] == "ok" and r["status"] == OK for r in result.rows)  # slow runs were stopped
    written = read_rows(tmp_path / "out" / "sweep.csv")
    assert [int(r["run"]) for r in written] == [r["run"] for r in result.rows]
    assert pq.read_table(tmp_path / "out" / "sweep.parquet").num_rows == result.finished


def test_bad_arguments_are_refused_before_any_run(
    days_data: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["sweep", *days_data[:2], "-s", "market_maker", "--out", str(tmp_path / "x")]
    assert main([*base, "-g", "nope=1,2"]) == 2
    assert "unknown parameter 'nope'" in capsys.readouterr().err
    assert main([*base, "-g", "size=1,a"]) == 2
    assert main([*base, "--walk-forward", "3"]) == 2
    assert main([*base, "--walk-forward", "1,1"]) == 2  # one day only
    assert "needs at least 2 days" in capsys.readouterr().err
    assert main([*base[:2], "-s", "no_such_strategy", "--out", str(tmp_path / "y")]) == 1
    assert not (tmp_path / "x").exists()


def test_ctrl_c_stops_the_command_and_keeps_the_finished_rows(
    days_data: list[str], faulty_strategy: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    day = [f for f in days_data if "2024-03-04" in f]
    cmd = [sys.executable, "-m", "replayterm", "sweep", *day, "-s", faulty_strategy]
    cmd += ["-g", "mode=ok,slow", "-g", "size=0.01,0.02,0.03", "-j", "1", "--out", str(out)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:  # wait for the first finished run
        lines.append(line)
        if line.startswith("[1/6]"):
            break
    proc.send_signal(signal.SIGINT)
    try:
        _, rest = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 130, "".join(lines) + rest
    assert "stopping; finished rows are kept" in rest
    rows = read_rows(out / "sweep.csv")
    assert 1 <= len(rows) < 6
    assert all(r["status"] == "ok" for r in rows)
    assert pq.read_table(out / "sweep.parquet").num_rows == len(rows)


def test_a_sweep_started_beside_a_replayterm_folder_runs(days_data: list[str], tmp_path: Path) -> None:
    """A folder named ``replayterm`` in the current directory (a checkout) must not shadow the
    installed package in the worker processes (issue 19, item 9)."""
    (tmp_path / "replayterm" / "src").mkdir(parents=True)
    out = tmp_path / "out"
    day = [f for f in days_data if "2024-03-04" in f]
    cmd = [str(Path(sys.executable).parent / "replayterm"), "sweep", *day, "-s", "market_maker"]
    cmd += ["-g", "size=0.01,0.02", "-j", "2", "--out", str(out)]
    run = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr
    rows = read_rows(out / "sweep.csv")
    assert [r["status"] for r in rows] == ["ok", "ok"], rows
    assert "ImportError" not in run.stderr


def test_workers_that_cannot_start_are_reported_as_such_not_as_the_strategy(
    days_data: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from concurrent.futures import ProcessPoolExecutor

    def broken(self: LocalPool, workers: int) -> ProcessPoolExecutor:
        # a worker whose start fails before it can run anything
        return ProcessPoolExecutor(
            max_workers=workers, mp_context=self._ctx, initializer=sys.exit, initargs=(3,)
        )

    monkeypatch.setattr(LocalPool, "_executor", broken)
    day = [f for f in days_data if "2024-03-04" in f]
    code = main(["sweep", *day, "-s", "market_maker", "-g", "size=0.01,0.02", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "worker processes could not start" in err
    assert "strategy" not in err.split("could not start", 1)[1]
    assert "died" not in err
