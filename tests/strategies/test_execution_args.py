"""The execution options: parsing, round trip through ``command_args``, per-strategy ``--exec``,
and the defaults on the shared real capture (plausible latency, non-zero fees, no short Sharpe)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from replayterm.cli import main
from replayterm.commands.execution_args import (
    add_execution_arguments,
    command_args,
    execution_settings_from_args,
    format_interval,
    parse_interval,
    settings_with,
)
from replayterm.core.execution import ConstantLatency, FeeSchedule, FillRules
from replayterm.core.session import SessionSettings


def parse(argv: list[str]) -> SessionSettings:
    parser = argparse.ArgumentParser()
    add_execution_arguments(parser)
    return execution_settings_from_args(parser.parse_args(argv))


def test_defaults_are_the_documented_ones() -> None:
    s = parse([])
    assert s == SessionSettings()
    assert s.latency is None
    assert s.fees is None
    assert s.rules == FillRules("reject", "conservative", True)
    assert s.metrics_interval_us == 60_000_000
    assert command_args(s) == []


def test_options_round_trip_through_command_args() -> None:
    argv = [
        "--latency-model", "feed", "--latency-us", "30000,5000", "--feed-scale", "2", "--feed-window-s", "30",
        "--feed-max-ms", "250", "--fees-bps=-0.5,4.5", "--slippage-bps", "1.5", "--queue", "prob",
        "--off-tick", "passive", "--through-fills", "full", "--own-liquidity", "off", "--cash", "10000",
        "--metrics-interval", "30s", "--sample-ms", "250",
    ]  # fmt: skip
    s = parse(argv)
    assert s.latency == ConstantLatency(30_000, 5_000)
    assert s.fees == FeeSchedule.from_bps(-0.5, 4.5)
    assert (s.feed_scale, s.feed_window_us, s.feed_max_us) == (2.0, 30_000_000, 250_000)
    assert s.rules == FillRules("passive", "full", False)
    assert parse(command_args(s)) == s
    assert parse(["--fees-bps", "3"]).fees == FeeSchedule.from_bps(3, 3)


def test_intervals() -> None:
    assert parse_interval("1m") == 60_000_000
    assert parse_interval("250ms") == 250_000
    assert parse_interval("2") == 2_000_000
    assert format_interval(60_000_000) == "1m"
    assert format_interval(1_500_000) == "1500ms"
    with pytest.raises(ValueError, match="interval"):
        parse_interval("soon")
    with pytest.raises(ValueError, match="metrics-interval"):
        parse(["--metrics-interval", "0s"])


def test_a_strategy_gets_settings_of_its_own() -> None:
    base = parse(["--latency-us", "1000", "--queue", "prob"])
    own = settings_with(base, ["--fees-bps", "1,3"])
    assert own.fees == FeeSchedule.from_bps(1, 3)
    assert (own.latency, own.queue) == (base.latency, "prob")
    with pytest.raises(ValueError, match="bad execution option"):
        settings_with(base, ["--no-such", "1"])


def test_exec_option_applies_to_its_strategy_only(tmp_path: Path) -> None:
    sample = Path(__file__).resolve().parents[2] / "data"
    files = [str(p) for p in sorted(sample.glob("*.csv.gz"))]
    if len(files) < 2:
        pytest.skip("the bundled sample is not present")
    out = tmp_path / "out"
    argv = ["backtest", *files, "--to", "2024-01-02T00:02:00Z", "--fees-bps", "0,0"]
    argv += [
        "-s",
        "imbalance_momentum",
        "-s",
        "imbalance_momentum",
        "--exec",
        "fees-bps=0,100",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    free, taxed = summary["strategies"]
    assert free["metrics"]["fills"] == taxed["metrics"]["fills"] > 0
    assert free["metrics"]["fees"] == 0.0
    assert taxed["metrics"]["fees"] > 0.0
    assert summary["run"]["execution"]["strategies"][taxed["name"]]["fees_bps"] == {
        "maker": 0.0,
        "taker": 100.0,
    }


def test_defaults_on_the_real_capture(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = shared_data / "binance-futures"
    files = [
        str(p)
        for p in sorted(d.glob("*_2024-07-1[89]_BTCUSDT.csv.gz"))
        if "incremental" in p.name or "_trades_" in p.name
    ]
    out = tmp_path / "out"
    assert main(["backtest", *files, "-s", "imbalance_momentum", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "behind exchange times" in err  # the clock offset is a warning, never a latency
    summary = json.loads((out / "summary.json").read_text())
    figures = summary["run"]["execution"]["instruments"]["binance-futures:BTCUSDT"]
    assert figures["latency_us"] == {"entry": 40_000, "response": 0}
    assert (figures["fees"]["maker_bps"], figures["fees"]["taker_bps"]) == (2.0, 5.0)
    metrics = summary["strategies"][0]["metrics"]
    assert metrics["fills"] > 0
    assert metrics["fees"] > 0
    assert metrics["sharpe"] is None  # an 8-minute run has 8 one-minute returns
    assert "need at least 30" in metrics["ratio_note"]
    assert "sharpe_sortino" in summary["run"]["conventions"]

    feed = tmp_path / "feed"
    assert (
        main(["backtest", *files, "-s", "imbalance_momentum", "--latency-model", "feed", "--out", str(feed)])
        == 0
    )
    figures = json.loads((feed / "summary.json").read_text())["run"]["execution"]["instruments"]
    entry = figures["binance-futures:BTCUSDT"]["latency_us"]["entry"]
    assert 40_000 <= entry["p50"] <= entry["p99"] <= entry["max"] <= 1_040_000
    assert entry["p50"] < 100_000  # the 1.5 s clock offset cancelled


def test_unknown_exchange_gets_zero_fees_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = Path(__file__).resolve().parents[2] / "data"
    files = [str(p) for p in sorted(sample.glob("*.csv.gz"))]
    if len(files) < 2:
        pytest.skip("the bundled sample is not present")
    out = tmp_path / "out"
    argv = ["backtest", *files, "--to", "2024-01-02T00:01:00Z", "-s", "imbalance_momentum", "--out", str(out)]
    assert main(argv) == 0
    assert "no default fees for exchange 'synthetic'" in capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert any("no default fees" in w for w in summary["run"]["warnings"])
    assert summary["strategies"][0]["metrics"]["fees"] == 0.0


def test_with_from_equity_and_metrics_start_at_from() -> None:
    from replayterm.core.data import parse_time
    from replayterm.core.session import ReplaySession

    sample = Path(__file__).resolve().parents[2] / "data"
    files = [str(p) for p in sorted(sample.glob("*.csv.gz"))]
    if len(files) < 2:
        pytest.skip("the bundled sample is not present")
    settings = SessionSettings(metrics_interval_us=1_000_000, fees=FeeSchedule())
    start = parse_time("2024-01-02T00:04:00Z")
    session = ReplaySession.open(files, settings, from_ts=start, to_ts="2024-01-02T00:06:00Z")
    handle = session.add_strategy("imbalance_momentum")
    session.run_to_end()
    assert session.run_start_ts >= start
    metrics = session.summary(handle)["metrics"]
    # Two minutes of one-second returns from --from, not from the start of the data.
    assert 119 <= metrics["intervals"] <= 121
    assert metrics["equity_start"] == 0.0
    assert metrics["sharpe"] is not None
