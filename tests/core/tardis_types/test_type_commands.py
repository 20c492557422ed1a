"""The command line on the Tardis types: info --check, backtest warnings and funding, sample
--derivatives, and the frames the app gets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from replayterm.cli import main
from replayterm.core.data import open_sources
from replayterm.core.frames.builder import FrameBuilder
from replayterm.core.replay.cursor import ReplayCursor
from replayterm.core.replay.instruments import build_instruments
from tardis_files import T0, S, book_ticker, derivative_ticker, l2, liquidations, trades


def test_info_check_reports_contents_and_bbo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(p) for p in (l2(tmp_path), book_ticker(tmp_path), derivative_ticker(tmp_path))]
    assert main(["info", "--check", *files]) == 0
    out = capsys.readouterr().out
    assert "BBO check vs ticker: prices match after 66.7% of 3 L2 messages" in out
    assert "what it means" in out
    assert "derivative_ticker: 4 rows" in out
    assert main(["info", "--check", "--json", *files]) == 0
    doc = json.loads(capsys.readouterr().out)
    [check] = doc["checks"]
    assert check["bbo_check"]["compared_messages"] == 3
    assert check["bbo_check"]["mismatches"] == 1


def test_backtest_warns_on_stderr_and_in_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["backtest", str(trades(tmp_path)), "--strategy", "imbalance_momentum", "--out", str(out)])
    assert code == 0
    err = capsys.readouterr().err
    assert "warning: imbalance_momentum: on_book is never called" in err
    summary = json.loads((out / "summary.json").read_text())
    assert any("on_book is never called" in w for w in summary["strategies"][0]["warnings"])
    assert any("on_book is never called" in w for w in summary["run"]["warnings"])


def test_backtest_writes_funding(tmp_path: Path) -> None:
    strategy = tmp_path / "long.py"
    strategy.write_text(
        "from replayterm.core.strategy import Strategy\n"
        "class Long(Strategy):\n"
        "    name = 'long'\n"
        "    def on_book(self, ctx, book):\n"
        "        if ctx.position == 0 and not ctx.open_orders:\n"
        "            ctx.buy(1.0)\n"
    )
    files = [str(p) for p in (l2(tmp_path), trades(tmp_path), derivative_ticker(tmp_path))]
    out = tmp_path / "out"
    assert (
        main(["backtest", *files, "--strategy", str(strategy), "--latency-us", "1", "--out", str(out)]) == 0
    )
    summary = json.loads((out / "summary.json").read_text())
    metrics = summary["strategies"][0]["metrics"]
    assert metrics["funding"] == pytest.approx(-1.0 * 100.75 * 0.0003)
    assert metrics["net_pnl_with_funding"] == pytest.approx(metrics["net_pnl"] + metrics["funding"])
    funding_csv = (out / "funding.csv").read_text().splitlines()
    assert len(funding_csv) == 2
    assert "binance-futures:BTCUSDT" in funding_csv[1]


def test_sample_derivatives(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sample", str(tmp_path), "--rows", "20000", "--seed", "3", "--derivatives"]) == 0
    ticker = next(tmp_path.glob("*_derivative_ticker_*.csv.gz"))
    liqs = next(tmp_path.glob("*_liquidations_*.csv.gz"))
    [inst] = build_instruments(open_sources([ticker, liqs, *tmp_path.glob("*_trades_*.csv.gz")]))
    assert inst.tickers is not None
    assert inst.liquidations is not None
    assert len(inst.tickers) > 10
    assert len(inst.liquidations) >= 1
    basis = inst.tickers.basis
    assert np.all(np.abs(basis[np.isfinite(basis)]) < 50)


def test_frames_carry_liquidations_and_ticker_after_seeks(tmp_path: Path) -> None:
    files = [l2(tmp_path), trades(tmp_path), derivative_ticker(tmp_path), liquidations(tmp_path)]
    cursor = ReplayCursor(build_instruments(open_sources(files)))
    builder = FrameBuilder(cursor, 0)
    cursor.seek(T0 + 3 * S)
    f = builder.frame(1, reset=True)
    assert len(f.liquidations) == 1
    assert len(f.ticker) == 2
    cursor.advance_to(T0 + 6 * S)
    f = builder.frame(1, reset=False)
    assert f.liquidations.amount.tolist() == [5.0]  # only the new one
    assert len(f.ticker) == 2
    cursor.seek(T0 + 1 * S)
    f = builder.frame(2, reset=True)
    assert len(f.liquidations) == 0
    assert len(f.ticker) == 1


def test_book_at_and_export_on_quotes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tardis_files import quotes

    path = str(quotes(tmp_path))
    assert main(["book", path, "--at", str(T0 + 3 * S), "--depth", "5"]) == 0
    out = capsys.readouterr().out
    assert "levels: 1 bids / 1 asks" in out
    assert "100.5" in out
    snap = tmp_path / "snap.csv"
    assert main(["export", path, "--book-snapshot", "1", "--interval", "0", "--out", str(snap)]) == 0
    rows = snap.read_text().splitlines()
    assert rows[0].endswith("asks[0].price,asks[0].amount,bids[0].price,bids[0].amount")
    assert rows[-1].endswith("101.5,4,101,2")
