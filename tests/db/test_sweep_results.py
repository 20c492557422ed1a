"""``sweep --results postgresql://…``: each run written as it finishes, kept when the sweep is
stopped, and not run again by the same sweep started once more (a real server, see conftest)."""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from replayterm.core.data.postgres.connect import connection
from replayterm.core.data.synthetic import generate_files

SLOW = '''
import time
from dataclasses import dataclass

from replayterm.core.strategy import Strategy


@dataclass
class SlowParams:
    size: float = 0.01
    pause_ms: float = 0.0


class Slow(Strategy):
    """Buys, sells, and takes its time over every book update."""

    name = "slow"
    Params = SlowParams

    def __init__(self, params=None):
        super().__init__(params)
        self.n = 0

    def on_book(self, ctx, book):
        self.n += 1
        if self.n == 20:
            ctx.buy(self.params.size)
        if self.n == 60:
            ctx.sell(self.params.size)
        if self.params.pause_ms:
            time.sleep(self.params.pause_ms / 1000)
'''


@pytest.fixture(scope="module")
def day_files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    g = generate_files(tmp_path_factory.mktemp("day"), minutes=1, seed=5, start="2024-03-04T00:00:00Z")
    return [str(g.book), str(g.trades)]


def _rows(url: str, sql: str) -> list[tuple]:
    with connection(url, "test") as conn, conn.cursor() as cur:
        cur.execute(sql)
        return [tuple(r) for r in cur.fetchall()]


def _sweep(files: list[str], strategy: Path, out: Path, url: str, grid: str) -> list[str]:
    cmd = [sys.executable, "-m", "replayterm", "sweep", *files, "-s", str(strategy), "-g", grid]
    return [*cmd, "-g", "size=0.01,0.02,0.03", "-j", "1", "--out", str(out), "--results", url]


@pytest.mark.slow
def test_a_stopped_sweep_keeps_its_finished_runs_and_the_rerun_does_only_the_rest(
    day_files: list[str], postgres_url: str, table_name: str, tmp_path: Path
) -> None:
    strategy = tmp_path / "slow.py"
    strategy.write_text(SLOW)
    url = f"{postgres_url}?table={table_name}"
    first = _sweep(day_files, strategy, tmp_path / "first", url, "pause_ms=0,0.5")
    proc = subprocess.Popen(first, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:  # the first run is in the database before its line is printed
        if line.startswith("[1/6]"):
            break
    proc.send_signal(signal.SIGINT)
    try:
        _, rest = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 130, rest
    kept = _rows(postgres_url, f"SELECT run, status FROM {table_name}_runs ORDER BY run")
    assert 1 <= len(kept) < 6
    assert all(status == "ok" for _, status in kept)

    again = subprocess.run(
        _sweep(day_files, strategy, tmp_path / "again", url, "pause_ms=0,0.5"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert f"{len(kept)} run{'s' if len(kept) > 1 else ''} already in the results database" in again.stderr
    ran = [line for line in again.stderr.splitlines() if line.startswith("[")]
    assert len(ran) == 6 - len(kept)  # only the runs not done before
    runs = _rows(postgres_url, f"SELECT run, params::text, status FROM {table_name}_runs ORDER BY run")
    assert [r[0] for r in runs] == list(range(6))
    assert all(r[2] == "ok" for r in runs)

    # The database holds what the files hold: every run's parameters and metrics.
    with (tmp_path / "again" / "sweep.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["run"]) for r in rows] == list(range(6))
    metrics = dict(
        ((run, name), value)
        for run, name, value in _rows(
            postgres_url,
            f"SELECT run, name, value FROM {table_name}_metrics WHERE name IN ('net_pnl', 'fills')",
        )
    )
    for r in rows:
        assert metrics[(int(r["run"]), "fills")] == float(r["fills"])
        assert metrics[(int(r["run"]), "net_pnl")] == pytest.approx(float(r["net_pnl"]), rel=1e-12, abs=1e-12)

    # Another sweep (other parameters) is another key: nothing of the first is skipped.
    other = subprocess.run(
        _sweep(day_files, strategy, tmp_path / "other", url, "pause_ms=0"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert other.returncode == 0, other.stderr
    assert "already in the results database" not in other.stderr
    assert len(_rows(postgres_url, f"SELECT DISTINCT sweep FROM {table_name}_runs")) == 2


def test_a_results_database_that_cannot_be_reached_stops_the_sweep_before_any_run(
    day_files: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from local_servers import free_port
    from replayterm.cli import main

    url = f"postgresql://nobody:x@127.0.0.1:{free_port()}/none"
    args = ["sweep", *day_files, "-s", "market_maker", "-g", "size=0.01", "--out", str(tmp_path / "o")]
    assert main([*args, "--results", url]) == 1
    err = capsys.readouterr().err
    assert "cannot connect to the database" in err
    assert ":x@" not in err
