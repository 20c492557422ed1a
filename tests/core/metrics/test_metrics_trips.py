"""Round trips, win rate, profit factor, holding time and markouts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from replayterm.core.metrics import (
    FillTable,
    average_holding_us,
    horizon_label,
    markouts,
    markouts_bps,
    profit_factor,
    round_trips,
    win_rate,
)


def three_trips() -> FillTable:
    # long 1 (100 -> 101); short 2 @102 closed by a buy of 3 @100 that flips long 1 @100; sold @99.
    return FillTable.from_columns(
        [0, 10, 20, 50, 80],
        [1, -1, -1, 1, -1],
        [100.0, 101.0, 102.0, 100.0, 99.0],
        [1.0, 1.0, 2.0, 3.0, 1.0],
        [0.1, 0.1, 0.2, 0.3, 0.1],
    )


def test_round_trips_split_a_flip() -> None:
    trips = round_trips(three_trips())
    assert trips.entry_ts.tolist() == [0, 20, 50]
    assert trips.exit_ts.tolist() == [10, 50, 80]
    assert trips.direction.tolist() == [1, -1, 1]
    assert trips.gross.tolist() == pytest.approx([1.0, 4.0, -1.0])
    # The flipping fill's 0.3 fee: 2/3 to the short it closes, 1/3 to the long it opens.
    assert trips.fees.tolist() == pytest.approx([0.2, 0.4, 0.2])
    assert trips.pnl.tolist() == pytest.approx([0.8, 3.6, -1.2])
    assert average_holding_us(trips) == pytest.approx(70 / 3)


def test_trip_statistics() -> None:
    pnl = round_trips(three_trips()).pnl
    assert win_rate(pnl) == pytest.approx(2 / 3)
    assert profit_factor(pnl) == pytest.approx(4.4 / 1.2)


def test_trip_edge_cases() -> None:
    none = round_trips(FillTable.empty())
    assert len(none) == 0
    assert math.isnan(win_rate(none.pnl))
    assert math.isnan(profit_factor(none.pnl))
    assert math.isnan(average_holding_us(none))
    assert len(round_trips(FillTable.from_columns([1], [1], [10.0], [1.0]))) == 0  # still open
    assert profit_factor(np.array([-1.0, -2.0])) == 0.0
    assert win_rate(np.array([-1.0, -2.0])) == 0.0
    assert profit_factor(np.array([1.0, 0.0])) == math.inf
    assert math.isnan(profit_factor(np.array([0.0, 0.0])))
    assert win_rate(np.array([0.0, 1.0])) == 0.5  # a zero trip is not a win


MID_TS = np.array([0, 1_000, 1_100, 2_000, 2_100, 3_000])
MID = np.array([100.0, 100.0, 101.0, 101.0, 100.5, 100.0])
FILLS = FillTable.from_columns([1_000, 2_000], [1, -1], [100.5, 100.5], [1.0, 1.0])


def test_markouts_against_the_mid() -> None:
    out = markouts(FILLS, MID_TS, MID, (100, 1_000))
    # buy at 1000 (mid 100): +1 after 100 µs and 1000 µs; sell at 2000 (mid 101): +0.5, +1.
    assert out.tolist() == [[1.0, 1.0], [0.5, 1.0]]


def test_markouts_against_the_fill_price() -> None:
    out = markouts(FILLS, MID_TS, MID, (100, 1_000), reference="price")
    assert out.tolist() == [[0.5, 0.5], [0.0, 0.5]]
    bps = markouts_bps(FILLS, MID_TS, MID, (100,), reference="price")
    assert bps[:, 0] == pytest.approx([0.5 / 100.5 * 1e4, 0.0])


def test_markouts_past_the_data_or_before_any_mid_are_nan() -> None:
    out = markouts(FILLS, MID_TS, MID, (2_000,))
    assert out[0, 0] == 0.0  # 1000 + 2000 is the last sample: mid back at 100
    assert math.isnan(out[1, 0])  # 2000 + 2000 > last sample
    early = markouts(FillTable.from_columns([-5], [1], [1.0], [1.0]), MID_TS, MID, (10,))
    assert math.isnan(early[0, 0])
    assert markouts(FILLS, np.array([], dtype=np.int64), np.array([]), (10,)).shape == (2, 1)
    with pytest.raises(ValueError, match="reference"):
        markouts(FILLS, MID_TS, MID, reference="vwap")


def test_horizon_labels() -> None:
    assert [horizon_label(h) for h in (100_000, 1_000_000, 10_000_000, 2_500)] == [
        "100ms",
        "1s",
        "10s",
        "2500us",
    ]
