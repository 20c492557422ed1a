"""Bars, footprint, profile, CVD and VWAP against an independent pyarrow computation, on the
shared real capture and on generated data (another market, tick and size step)."""

from __future__ import annotations

from pathlib import Path

import flow_oracle as oracle
import numpy as np
import pytest
from flow_helpers import open_flow, trades_files

US = 1_000_000


def _datasets(shared: Path | None, generated: Path) -> list[list[Path]]:
    sets = [[generated]]
    if shared is not None:
        sets.append(trades_files(shared))
    return sets


@pytest.fixture(params=["real", "generated"])
def dataset(request: pytest.FixtureRequest, generated_file: Path) -> list[Path]:
    if request.param == "generated":
        return [generated_file]
    shared = request.getfixturevalue("shared_data")
    return trades_files(shared)


def _close(ours: np.ndarray, theirs: np.ndarray, decimals: int) -> None:
    """Sizes: our exact integer sums equal the float sums rounded to the data's decimals."""
    np.testing.assert_array_equal(ours, np.round(theirs, decimals))


@pytest.mark.parametrize("width_s", [1, 60, 300])
def test_time_bars_equal_a_group_by(dataset: list[Path], width_s: int) -> None:
    flow, _ = open_flow(dataset)
    ref = oracle.time_bars(oracle.read_trades(dataset), width_s * US)
    bars = flow.bars(f"{width_s}s").columns
    d = flow.grid.size_decimals
    np.testing.assert_array_equal(bars["start_us"], ref["start_us"])
    for ours, theirs in (
        ("open", "price_first"),
        ("high", "price_max"),
        ("low", "price_min"),
        ("close", "price_last"),
    ):
        np.testing.assert_array_equal(bars[ours], ref[theirs])
    _close(bars["volume"], ref["amount_sum"], d)
    _close(bars["buy_volume"], ref["buy_sum"], d)
    _close(bars["sell_volume"], ref["sell_sum"], d)
    np.testing.assert_array_equal(bars["trades"], ref["price_count"])
    np.testing.assert_allclose(bars["vwap"], ref["vwap"], rtol=1e-9)
    np.testing.assert_allclose(bars["notional"], ref["pv_sum"], rtol=1e-12)


def test_bars_of_a_range_are_the_trades_in_it(dataset: list[Path]) -> None:
    flow, _ = open_flow(dataset)
    table = oracle.read_trades(dataset)
    lo, hi = flow.span
    start, end = lo + (hi - lo) // 3 + 123, hi - (hi - lo) // 4 - 77  # mid-second edges
    ref = oracle.time_bars(oracle.between(table, start, end), 60 * US)
    bars = flow.bars("1m", start, end).columns
    np.testing.assert_array_equal(bars["open"], ref["price_first"])
    np.testing.assert_array_equal(bars["close"], ref["price_last"])
    _close(bars["volume"], ref["amount_sum"], flow.grid.size_decimals)
    np.testing.assert_array_equal(bars["trades"], ref["price_count"])


@pytest.mark.parametrize(("kind", "size"), [("tick", 100), ("volume", 10), ("notional", 1_000_000)])
def test_tick_volume_and_notional_bars(dataset: list[Path], kind: str, size: float) -> None:
    flow, _ = open_flow(dataset)
    table = oracle.read_trades(dataset)
    unit = {"tick": "t", "volume": "v", "notional": "n"}[kind]
    bars = flow.bars(f"{size}{unit}").columns
    ref = oracle.size_bars(table, kind, size)
    price = table["price"].to_numpy()
    amount = table["amount"].to_numpy()
    ts = table["local_timestamp"].to_numpy()
    assert len(bars["open"]) == len(ref)
    firsts = np.array([a for a, _ in ref])
    lasts = np.array([b for _, b in ref])
    np.testing.assert_array_equal(bars["start_us"], ts[firsts])
    np.testing.assert_array_equal(bars["open"], price[firsts])
    np.testing.assert_array_equal(bars["close"], price[lasts])
    np.testing.assert_array_equal(bars["trades"], lasts - firsts + 1)
    sums = np.add.reduceat(amount, firsts)
    _close(bars["volume"], sums, flow.grid.size_decimals)


@pytest.mark.parametrize("group", [1, 10])
def test_footprint_equals_a_group_by(dataset: list[Path], group: int) -> None:
    flow, _ = open_flow(dataset)
    row = flow.grid.tick_size * group
    ref = oracle.footprint(oracle.read_trades(dataset), 60 * US, row)
    _fp, table = flow.footprint("1m", group_ticks=group)
    cols = table.columns
    d = flow.grid.size_decimals
    np.testing.assert_array_equal(cols["start_us"], ref["bucket"] * 60 * US)
    np.testing.assert_allclose(cols["price"], ref["prow"] * row, rtol=1e-12)
    _close(cols["ask_volume"], ref["buy_sum"], d)
    _close(cols["bid_volume"], ref["sell_sum"], d)
    _close(cols["volume"], ref["amount_sum"], d)
    np.testing.assert_array_equal(cols["trades"], ref["price_count"])


def test_footprint_imbalances_follow_their_definition(dataset: list[Path]) -> None:
    flow, _ = open_flow(dataset)
    _fp, table = flow.footprint("1m", group_ticks=2, ratio=3.0, stack=3)
    c = table.columns
    row = flow.grid.tick_size * 2
    n = len(c["price"])
    expect_buy = np.zeros(n, dtype=bool)
    expect_sell = np.zeros(n, dtype=bool)
    bars = np.unique(c["start_us"])
    for b in bars:
        idx = np.flatnonzero(c["start_us"] == b)
        prices = np.round(c["price"][idx] / row).astype(np.int64)
        by = dict(zip(prices.tolist(), idx.tolist(), strict=True))
        lo, hi = prices.min(), prices.max()
        for p, i in by.items():
            below = c["bid_volume"][by[p - 1]] if p - 1 in by else 0.0
            above = c["ask_volume"][by[p + 1]] if p + 1 in by else 0.0
            expect_buy[i] = p > lo and c["ask_volume"][i] > 0 and c["ask_volume"][i] >= 3 * below - 1e-12
            expect_sell[i] = p < hi and c["bid_volume"][i] > 0 and c["bid_volume"][i] >= 3 * above - 1e-12
        vol = c["volume"][idx]
        assert c["poc"][idx].sum() == 1
        assert vol[c["poc"][idx]].item() == vol.max()
    np.testing.assert_array_equal(c["buy_imbalance"], expect_buy)
    np.testing.assert_array_equal(c["sell_imbalance"], expect_sell)
    # stacked: runs of >= 3 adjacent imbalanced rows in one bar
    for flag, stacked in (("buy_imbalance", "stacked_buy"), ("sell_imbalance", "stacked_sell")):
        expect = np.zeros(n, dtype=bool)
        for b in bars:
            idx = np.flatnonzero(c["start_us"] == b)
            prices = np.round(c["price"][idx] / row).astype(np.int64)
            k = 0
            while k < len(idx):
                if c[flag][idx[k]]:
                    e = k + 1
                    while e < len(idx) and c[flag][idx[e]] and prices[e] == prices[e - 1] + 1:
                        e += 1
                    if e - k >= 3:
                        expect[idx[k:e]] = True
                    k = e
                else:
                    k += 1
        np.testing.assert_array_equal(c[stacked], expect)
    assert c["buy_imbalance"].any()
    assert c["sell_imbalance"].any()


@pytest.mark.parametrize(("group", "share"), [(1, 0.7), (5, 0.7), (10, 0.5)])
def test_profile_equals_a_group_by(dataset: list[Path], group: int, share: float) -> None:
    flow, _ = open_flow(dataset)
    lo, hi = flow.span
    start, end = lo + (hi - lo) // 5 + 311, hi - 999
    ref = oracle.profile(
        oracle.between(oracle.read_trades(dataset), start, end), flow.grid.tick_size * group, share
    )
    result = flow.profile(start, end, group_ticks=group, value_area=share)
    table, summary = result.table().columns, result.summary()
    row = flow.grid.tick_size * group
    d = flow.grid.size_decimals
    np.testing.assert_allclose(table["price"], ref["rows"] * row, rtol=1e-12)
    _close(table["buy_volume"], ref["buy"], d)
    _close(table["sell_volume"], ref["sell"], d)
    _close(table["volume"], ref["volume"], d)
    for key in ("poc", "vah", "val"):
        assert summary[key] == pytest.approx(ref[key], rel=1e-12), key


def test_cvd_and_vwap_equal_a_plain_loop(dataset: list[Path]) -> None:
    flow, _ = open_flow(dataset)
    ref = oracle.cvd_and_vwap(oracle.read_trades(dataset), 60 * US)
    cvd = flow.cvd("1m").columns
    vwap = flow.vwap("1m").columns
    d = flow.grid.size_decimals
    np.testing.assert_array_equal(cvd["start_us"], ref["start_us"])
    for k in ("open", "high", "low", "close"):
        np.testing.assert_allclose(cvd[k], np.round(ref[k], d), atol=10.0**-d / 2, err_msg=k)
    np.testing.assert_allclose(vwap["vwap"], ref["vwap"], rtol=1e-9)
    np.testing.assert_allclose(vwap["sigma"], ref["sigma"], rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(vwap["upper_2"] - vwap["vwap"], 2 * vwap["sigma"], atol=1e-3)


def test_cvd_and_vwap_of_a_later_range_continue_the_session(dataset: list[Path]) -> None:
    """A range that starts mid-session shows the same running values as the whole session."""
    flow, _ = open_flow(dataset)
    whole_cvd, whole_vwap = flow.cvd("1m").columns, flow.vwap("1m").columns
    lo, hi = flow.span
    start = (lo + (hi - lo) // 2) // (60 * US) * (60 * US)  # a bar boundary
    part_cvd, part_vwap = flow.cvd("1m", start).columns, flow.vwap("1m", start).columns
    k = int(np.searchsorted(whole_cvd["start_us"], part_cvd["start_us"][0]))
    for key in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(part_cvd[key], whole_cvd[key][k:])
    np.testing.assert_array_equal(part_vwap["vwap"], whole_vwap["vwap"][k:])
    np.testing.assert_array_equal(part_vwap["sigma"], whole_vwap["sigma"][k:])


def test_session_profiles_and_naked_pocs(dataset: list[Path]) -> None:
    flow, _ = open_flow(dataset)
    sessions = flow.session_profiles()
    table = oracle.read_trades(dataset)
    days = np.unique(table["local_timestamp"].to_numpy() // (86_400 * US))
    assert len(sessions) == len(days)
    for (result, _naked), day in zip(sessions, days, strict=True):
        ref = oracle.profile(
            oracle.between(table, day * 86_400 * US, (day + 1) * 86_400 * US - 1), flow.grid.tick_size, 0.7
        )
        assert result.summary()["poc"] == pytest.approx(ref["poc"], rel=1e-12)
    assert sessions[-1][1] is True  # nothing after the last session can revisit its POC
    for i, (result, naked) in enumerate(sessions):
        poc = result.profile.poc
        revisited = any(r.profile.low <= poc <= r.profile.high for r, _ in sessions[i + 1 :])
        assert naked == (not revisited)
