"""Several instruments per strategy: routing, per-instrument positions, one timeline, basis."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from replayterm.core.execution.latency import ConstantLatency
from replayterm.core.session.export import write_results
from replayterm.core.session.session import ReplaySession
from replayterm.core.session.settings import SessionSettings
from replayterm.core.strategy.base import Strategy
from tardis_files import QUOTE_HEADER, T0, S, l2, quotes, trades, write

SETTINGS = SessionSettings(latency=ConstantLatency(1, 1))
PERP = "binance-futures:BTCUSDT"
SPOT = "binance:BTCUSDT"


class _Pair(Strategy):
    name = "pair"
    instruments = (PERP, SPOT)

    def __init__(self, params: Any = None) -> None:
        super().__init__(params)
        self.seen: list[tuple[int, str]] = []

    def on_book(self, ctx, book):  # type: ignore[no-untyped-def]
        self.seen.append((ctx.now, book.instrument.name))
        if ctx.now == T0 + S and book.instrument.name == SPOT:
            ctx.sell(1.0, instrument=PERP)
            ctx.buy(1.0, instrument=SPOT)

    def on_trade(self, ctx, trade):  # type: ignore[no-untyped-def]
        self.seen.append((ctx.now, f"trade {trade.instrument.name}"))


def _files(folder: Path) -> list[Path]:
    return [l2(folder), trades(folder), quotes(folder, ex="binance")]


def test_orders_route_per_instrument(tmp_path: Path) -> None:
    session = ReplaySession.open(_files(tmp_path), SETTINGS)
    h = session.add_strategy(_Pair)
    session.run_to_end()
    slot = session._slot(h)
    strategy = slot.instance
    assert isinstance(strategy, _Pair)
    # One timeline: at T0+1s the perp's book and the spot's quote; at T0+2s a perp trade comes
    # before the spot quote of the same time (trades before book messages).
    assert strategy.seen[:4] == [
        (T0 + S, PERP),
        (T0 + S, SPOT),
        (T0 + 2 * S, f"trade {PERP}"),
        (T0 + 2 * S, SPOT),
    ]
    f = session.fills(h)
    assert len(f) == 2
    names = [session.instruments[i].name for i in f["instrument"]]
    by_inst = {n: (int(side), float(p)) for n, side, p in zip(names, f["side"], f["price"], strict=True)}
    assert by_inst[PERP] == (-1, 100.0)  # sold into the perp's best bid
    assert by_inst[SPOT] == (1, 100.5)  # bought the spot's quoted ask
    ctx = slot.ctx
    assert ctx.positions == {PERP: -1.0, SPOT: 1.0}
    assert sorted(ctx.instrument_of(int(i)) or "" for i in f["order_id"]) == sorted([PERP, SPOT])
    assert set(ctx.books) == {PERP, SPOT}
    summary = session.summary(h)
    assert summary["instruments"] == [PERP, SPOT]
    assert summary["metrics"]["fills"] == 2
    per = summary["per_instrument"]
    assert per[PERP]["position"] == -1.0
    assert per[SPOT]["position"] == 1.0
    total_net = per[PERP]["net_pnl"] + per[SPOT]["net_pnl"]
    assert summary["metrics"]["net_pnl"] == pytest.approx(total_net)
    # Files gain an instrument column.
    out = tmp_path / "out"
    write_results(session, [h], out, {})
    fills_csv = (out / "fills.csv").read_text().splitlines()
    assert '"instrument"' in fills_csv[0].split(",")
    assert any(PERP in line for line in fills_csv[1:])
    assert any(SPOT in line for line in fills_csv[1:])
    equity_csv = (out / "equity.csv").read_text().splitlines()
    assert '"instrument"' in equity_csv[0].split(",")


def test_unknown_instrument_is_a_clear_error(tmp_path: Path) -> None:
    session = ReplaySession.open([l2(tmp_path)], SETTINGS)
    with pytest.raises(ValueError, match="not in the open data"):
        session.add_strategy(_Pair)


def _spot_from_ticker(folder: Path, out: Path, seed: int = 3) -> Path:
    """A generated second symbol: a 'spot' quote stream that follows the real perp's ticker with
    a lag, a drifting basis and its own noise."""
    rng = np.random.default_rng(seed)
    rows: list[str] = []
    for day in ("2024-07-18", "2024-07-19"):
        path = folder / f"binance-futures_book_ticker_{day}_BTCUSDT.csv.gz"
        with gzip.open(path, "rt") as fh:
            header = fh.readline().strip().split(",")
            col = {name: k for k, name in enumerate(header)}
            for k, line in enumerate(fh):
                if k % 4:
                    continue  # a quieter venue: a quarter of the updates
                v = line.strip().split(",")
                t = int(v[col["local_timestamp"]]) + 40_000
                shift = -8.0 + 3.0 * np.sin(t / 60e6) + float(rng.normal(0, 0.5))
                shift = round(shift, 1)
                bid = round(float(v[col["bid_price"]]) + shift, 1)
                ask = round(max(float(v[col["ask_price"]]) + shift, bid + 0.1), 1)
                rows.append(f"binance,BTCUSDT,{t},{t},1.5,{ask},{bid},1.2")
    return write(out / "binance_quotes_2024-07-18_BTCUSDT.csv", QUOTE_HEADER, rows)


def test_basis_on_real_perp_and_generated_spot(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "binance-futures"
    files = sorted(folder.glob("binance-futures_incremental_book_L2_*.csv.gz")) + sorted(
        folder.glob("binance-futures_trades_*.csv.gz")
    )
    files.append(_spot_from_ticker(folder, tmp_path))
    end = "2024-07-19T00:01:30Z"  # the first 3.5 minutes keep the test short
    settings = SessionSettings(latency=ConstantLatency(2000, 2000))
    session = ReplaySession.open(files, settings, to_ts=end)
    h = session.add_strategy("basis", {"halflife_s": 20.0, "entry_z": 1.5, "warmup_s": 5.0})
    session.run_to_end()
    summary = session.summary(h)
    assert summary["status"] == "enabled"
    assert summary["instruments"] == [PERP, SPOT]
    f = session.fills(h)
    assert len(f) >= 4
    assert {session.instruments[i].name for i in f["instrument"]} == {PERP, SPOT}
    per = summary["per_instrument"]
    # Every pair is opened and closed on both legs: positions offset each other.
    assert per[PERP]["position"] == pytest.approx(-per[SPOT]["position"], abs=1e-9)
    # Deterministic: a second run gives the same fills.
    again = ReplaySession.open(files, settings, to_ts=end)
    h2 = again.add_strategy("basis", {"halflife_s": 20.0, "entry_z": 1.5, "warmup_s": 5.0})
    again.seek(session.start_ts + 60 * S)
    again.seek(session.start_ts + 10 * S)  # a backward seek re-runs from the start
    again.run_to_end()
    f2 = again.fills(h2)
    assert f2["price"].tolist() == f["price"].tolist()
    assert f2["instrument"].tolist() == f["instrument"].tolist()
