"""``replayterm backtest`` on the bundled sample: output files, agreement with an in-process
session, and exit codes for bad data, bad strategies and strategies that fail mid-run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from replayterm.cli import main
from replayterm.core.data import parse_time
from replayterm.core.data.synthetic import generate_files
from replayterm.core.execution import ConstantLatency, FeeSchedule
from replayterm.core.session import ReplaySession, SessionSettings

SAMPLE = Path(__file__).resolve().parents[2] / "data"
WINDOW = ["--to", "2024-01-02T00:03:00Z"]

FAILING = """
from replayterm.core.strategy import Strategy

class Fragile(Strategy):
    name = "fragile"

    def __init__(self, params=None):
        super().__init__(params)
        self.n = 0

    def on_book(self, ctx, book):
        self.n += 1
        if self.n == 500:
            ctx.buy(0.01)
        if self.n == 1000:
            raise RuntimeError("cannot go on")
"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The committed ten-minute sample (book + trades), or a freshly generated one."""
    found = sorted(SAMPLE.glob("*incremental_book_L2*.csv.gz")) + sorted(SAMPLE.glob("*trades*.csv.gz"))
    if len(found) == 2:
        return [str(p) for p in found]
    g = generate_files(tmp_path_factory.mktemp("sample"), minutes=10, seed=7)
    return [str(g.book), str(g.trades)]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_backtest_writes_results_equal_to_an_in_process_session(
    sample: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = [*sample, *WINDOW, "--latency-us", "3000,500", "--fees-bps=-0.5,4", "--queue", "prob"]
    args += ["-s", "market_maker", "-p", "requote_ms=100", "-p", "size=0.02", "-p", "max_position=0.1"]
    args += ["-s", "imbalance_momentum", "--out", str(out)]
    assert main(["backtest", *args]) == 0
    assert "market_maker" in capsys.readouterr().out
    for name in ("fills.csv", "equity.csv", "signals.csv", "plots.csv", "summary.json"):
        assert (out / name).is_file()

    settings = SessionSettings(
        latency=ConstantLatency(3000, 500), fees=FeeSchedule.from_bps(-0.5, 4.0), queue="prob"
    )
    session = ReplaySession.open(sample, settings, to_ts=WINDOW[1])
    mm = session.add_strategy("market_maker", {"requote_ms": 100, "size": 0.02, "max_position": 0.1})
    imb = session.add_strategy("imbalance_momentum")
    session.run_to_end()

    rows = read_csv(out / "fills.csv")
    for handle in (mm, imb):
        mine = [r for r in rows if r["strategy"] == handle.name]
        fills = session.fills(handle)
        assert len(mine) == len(fills) > 0
        assert [int(r["sim_ts"]) for r in mine] == fills["exch_ts"].tolist()
        assert [float(r["price"]) for r in mine] == pytest.approx(fills["price"].tolist(), rel=1e-12)
        assert [float(r["amount"]) for r in mine] == pytest.approx(fills["amount"].tolist(), rel=1e-12)
        assert {r["side"] for r in mine} <= {"buy", "sell"}
    assert {r["liquidity"] for r in rows if r["strategy"] == mm.name} == {"maker"}

    summary = json.loads((out / "summary.json").read_text())
    assert summary["run"]["latency_us"]["synthetic:SYNTHUSD"] == {"entry": 3000, "response": 500}
    assert summary["run"]["queue"] == "prob"
    by_name = {s["name"]: s for s in summary["strategies"]}
    for handle in (mm, imb):
        assert by_name[handle.name]["metrics"] == json.loads(json.dumps(session.summary(handle)["metrics"]))
        assert by_name[handle.name]["status"] == "enabled"
        assert by_name[handle.name]["finished"] is True
    assert by_name["market_maker"]["params"]["size"] == 0.02

    equity = read_csv(out / "equity.csv")
    last = [r for r in equity if r["strategy"] == mm.name][-1]
    assert float(last["net"]) == pytest.approx(session.info(mm).pnl.net, abs=1e-9)
    signals = read_csv(out / "signals.csv")
    assert {r["kind"] for r in signals if r["strategy"] == imb.name} >= {"exit"}
    assert np.isfinite([float(r["strength"]) for r in signals]).all()


def test_a_strategy_failing_mid_run_is_reported_not_fatal(
    sample: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin = tmp_path / "fragile.py"
    plugin.write_text(FAILING)
    out = tmp_path / "out"
    code = main(["backtest", *sample, *WINDOW, "-s", str(plugin), "-s", "mean_reversion", "--out", str(out)])
    assert code == 3  # the results are written, but the run is not a success (issue 19, item 10)
    err = capsys.readouterr().err
    assert "strategy fragile stopped" in err
    assert "RuntimeError: cannot go on" in err
    summary = json.loads((out / "summary.json").read_text())
    fragile, other = summary["strategies"]
    assert fragile["status"] == "failed"
    assert fragile["error"]["callback"] == "on_book"
    assert "raise RuntimeError" in fragile["error"]["traceback"]
    assert fragile["metrics"]["fills"] == 1
    assert other["status"] == "enabled"


def test_a_window_after_the_opening_snapshot_starts_with_a_full_book(
    sample: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    window = ["--from", "2024-01-02T00:01:00Z", "--to", "2024-01-02T00:02:00Z"]
    assert main(["backtest", *sample, *window, "-s", "market_maker", "--out", str(tmp_path)]) == 0
    assert "no snapshot" not in capsys.readouterr().err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert not any("no snapshot" in w for w in summary["run"]["warnings"])
    with (tmp_path / "fills.csv").open() as fh:
        fills = list(csv.DictReader(fh))
    assert fills  # the market maker quotes from the first message: the book is there at once
    start, stop = parse_time(window[1]), parse_time(window[3])
    assert all(start <= int(f["ts"]) < stop for f in fills)


def test_bad_inputs_exit_with_a_clear_message(
    sample: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "out")
    broken = tmp_path / "binance_trades_2024-01-01_BTCUSDT.csv"
    broken.write_text(
        "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\nx,y,notatime,1,2,buy,1,1\n"
    )
    assert main(["backtest", str(broken), "-s", "mean_reversion", "--out", out]) == 1
    assert str(broken) in capsys.readouterr().err

    assert main(["backtest", *sample, "-s", "no_such_strategy", "--out", out]) == 1
    assert "no strategy file or registered strategy named 'no_such_strategy'" in capsys.readouterr().err

    bad_plugin = tmp_path / "bad.py"
    bad_plugin.write_text("def oops(:\n")
    assert main(["backtest", *sample, "-s", str(bad_plugin), "--out", out]) == 1
    assert "bad.py" in capsys.readouterr().err

    assert main(["backtest", *sample, "-s", "mean_reversion", "-p", "lookback=many", "--out", out]) == 1
    assert "parameter 'lookback' expects int" in capsys.readouterr().err

    assert main(["backtest", *sample, "-s", "mean_reversion", "--fees-bps", "1,2,3", "--out", out]) == 2
    assert "--fees-bps expects one or two numbers" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["backtest", *sample, "-p", "size=1", "-s", "mean_reversion", "--out", out])
    assert exit_info.value.code == 2
    assert not (tmp_path / "out").exists()


def test_summary_table_keeps_the_digits(capsys: pytest.CaptureFixture[str]) -> None:
    from replayterm.commands.backtest import print_table

    metrics = {"fills": 3, "volume": 104523.45, "fees": 0.1 + 0.2, "net_pnl": -1234.567891, "max_drawdown": 0}
    summary = {
        "strategies": [{"name": "mm", "status": "ok", "metrics": metrics}],
        "run": {"events": 10, "run_s": 0.5, "events_per_s": 20},
    }
    print_table(summary)
    out = capsys.readouterr().out
    assert "104523.45" in out
    assert "-1234.567891" in out
    assert " 0.3 " in out  # float noise rounded away, not 0.30000000000000004


STUCK = """
import sys
import time
from replayterm.core.strategy import Strategy

class Stuck(Strategy):
    name = "stuck"

    def __init__(self, params=None):
        super().__init__(params)
        self.n = 0

    def on_book(self, ctx, book):
        self.n += 1
        if self.n == 200:
            ctx.buy(0.01)
        if self.n == 400:
            print("stuck now", file=sys.stderr, flush=True)
            while True:
                time.sleep(0.001)
"""

# Not stuck, only slow (a few us a callback), so the run lasts long enough to be interrupted.
SLOW = STUCK.replace(
    "while True:\n                time.sleep(0.001)",
    "pass\n        sum(range(100))",
)


def test_a_stuck_callback_is_reported_after_the_default_budget(
    sample: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from replayterm.commands import backtest

    monkeypatch.setattr(backtest, "DEFAULT_BUDGET_S", 0.5)  # the default, shortened for the test
    plugin = tmp_path / "stuck.py"
    plugin.write_text(STUCK)
    out = tmp_path / "out"
    code = main(["backtest", *sample, *WINDOW, "-s", str(plugin), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "strategy stuck stopped" in err
    assert "0.5 s" in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["strategies"][0]["status"] == "failed"
    assert summary["strategies"][0]["metrics"]["fills"] == 1


def test_budget_zero_turns_the_watchdog_off_and_a_negative_one_is_refused(
    sample: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from replayterm.cli import build_parser
    from replayterm.commands.backtest import settings_from_args

    def budget(*extra: str) -> float | None:
        args = build_parser().parse_args(["backtest", *sample, "-s", "market_maker", "-o", "x", *extra])
        return settings_from_args(args).callback_budget_s

    assert budget() == 10.0
    assert budget("--budget-s", "2.5") == 2.5
    assert budget("--budget-s", "0") is None
    code = main(["backtest", *sample, "-s", "market_maker", "--budget-s=-1", "--out", str(tmp_path / "o")])
    assert code == 2
    assert "--budget-s" in capsys.readouterr().err


@pytest.mark.parametrize("stuck", [False, True])
def test_ctrl_c_stops_cleanly_and_keeps_what_was_written(
    sample: list[str], tmp_path: Path, stuck: bool
) -> None:
    import signal
    import subprocess
    import sys

    plugin = tmp_path / "stuck.py"
    plugin.write_text(STUCK if stuck else SLOW)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "replayterm", "backtest", *sample, "-s", str(plugin), "--out", str(out)]
    cmd += ["--budget-s", "0"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "stuck now" in line:
            break
    proc.send_signal(signal.SIGINT)
    try:
        _, rest = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 130, rest
    assert "KeyboardInterrupt" not in rest
    if stuck:  # the stuck callback is aborted and reported like any strategy error
        assert "strategy stuck stopped" in rest
        assert "stopped with Ctrl+C in on_book" in rest
    else:
        assert "Traceback" not in rest
    assert "stopped with Ctrl+C" in rest
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run"]["stopped"] is True
    fills = read_csv(out / "fills.csv")
    assert len(fills) == 1


def test_output_files_carry_no_float_noise_and_fills_have_the_datas_exchange_time(
    sample: list[str], tmp_path: Path
) -> None:
    """fee 0.12790200000000002, position -0.019999999999999997, price 63918.350000000006 were
    written as such; and exch_ts in fills.csv was the replay time (issue 19, item 7)."""
    import re

    from replayterm.core.data import open_sources

    out = tmp_path / "out"
    args = ["backtest", *sample, *WINDOW, "-s", "market_maker", "-p", "size=0.03", "--fees-bps=-0.3,4.1"]
    args += ["--slippage-bps", "0.7", "--latency-us", "3000,700", "--out", str(out)]
    assert main(args) == 0
    noisy = re.compile(r"\d\.\d*(0000000|9999999)\d")
    for name in ("fills.csv", "equity.csv", "signals.csv"):
        text = (out / name).read_text()
        assert not noisy.search(text), (name, noisy.search(text))
    fills = read_csv(out / "fills.csv")
    assert fills
    book_exch = set()
    for source in open_sources(sample):
        book_exch |= set(source.table.column("exch_ts").to_pylist())
    for fill in fills:
        assert int(fill["exch_ts"]) in book_exch, fill  # the exchange time of a data row
        assert int(fill["exch_ts"]) < int(fill["ts"])  # the data's clock, before it was heard of
