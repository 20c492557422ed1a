"""Trading by hand: recorded clicks at replay times reproduce the same fills, whatever the
speed, the seeks or the run; each kind of click does what it says."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from replayterm.core.data import Source, open_sources
from replayterm.core.data.synthetic import generate_files
from replayterm.core.session import ReplaySession
from replayterm.core.strategy import StrategyStatus
from replayterm.strategies.manual import parse_clicks

REPO = Path(__file__).resolve().parents[2]
T0 = 1_704_153_600_000_000  # 2024-01-02T00:00Z, the synthetic sample's start


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Source]:
    found = sorted((REPO / "data").glob("*incremental_book_L2*.csv.gz"))
    found += sorted((REPO / "data").glob("*trades*.csv.gz"))
    if len(found) != 2:
        g = generate_files(tmp_path_factory.mktemp("sample"), minutes=3, seed=7)
        found = [g.book, g.trades]
    return open_sources(found, to_ts="2024-01-02T00:03:00Z", use_cache=False)


def _touch(sources: list[Source], at: int) -> tuple[float, float]:
    session = ReplaySession(sources)
    session.seek(at)
    book = session.cursor.instruments[0].book.book  # type: ignore[union-attr]
    top = book.top_stats(1)
    return top.best_bid, top.best_ask


def _clicks(sources: list[Source]) -> list[dict]:
    start = ReplaySession(sources).start_ts
    bid, ask = _touch(sources, start + 20_000_000)
    _bid40, ask40 = _touch(sources, start + 40_000_000)
    return [
        {"t": start + 10_000_000, "action": "market", "side": "buy", "size": 0.01},
        {
            "t": start + 20_000_000,
            "action": "limit",
            "side": "buy",
            "price": round(bid - 30, 1),
            "size": 0.02,
        },
        {
            "t": start + 20_000_000,
            "action": "limit",
            "side": "sell",
            "price": round(ask + 50, 1),
            "size": 0.02,
        },
        {"t": start + 30_000_000, "action": "cancel", "ref": 2},
        {"t": start + 40_000_000, "action": "move", "ref": 1, "price": round(ask40 + 5, 1)},  # marketable now
        {"t": start + 60_000_000, "action": "market", "side": "sell", "size": 0.01, "tp": 2.0, "sl": 2.0},
    ]


def _run(sources: list[Source], clicks: list[dict], seeks: list[int] = ()) -> tuple[ReplaySession, object]:
    session = ReplaySession(sources)
    handle = session.add_strategy("manual", {"clicks": json.dumps(clicks)})
    for t in seeks:
        session.seek(t)
    session.run_to_end()
    info = session.info(handle)
    assert info.status is StrategyStatus.ENABLED, info.error
    return session, handle


def _fills(session: ReplaySession, handle: object) -> dict[str, list]:
    cols = session.fills(handle).columns  # type: ignore[arg-type]
    return {k: np.asarray(v).tolist() for k, v in cols.items()}


def test_the_same_clicks_give_the_same_fills_after_any_seek(sources: list[Source]) -> None:
    clicks = _clicks(sources)
    a, ha = _run(sources, clicks)
    start = a.start_ts
    b, hb = _run(
        sources,
        clicks,
        seeks=[start + 45_000_000, start + 5_000_000, start + 150_000_000, start + 25_000_000],
    )
    fa, fb = _fills(a, ha), _fills(b, hb)
    assert fa == fb
    assert len(fa["price"]) >= 3


def test_each_click_does_what_it_says(sources: list[Source]) -> None:
    clicks = _clicks(sources)
    session, handle = _run(sources, clicks)
    f = _fills(session, handle)
    start = session.start_ts
    # the first market buy fills after the click (latency), never before it
    assert f["ts"][0] > start + 10_000_000
    assert f["side"][0] == 1
    # the cancelled sell at ask+50 never fills; the moved buy (now above the ask) takes liquidity
    assert all(p < clicks[2]["price"] for p in f["price"])
    moved = [i for i, ts in enumerate(f["ts"]) if start + 40_000_000 < ts < start + 45_000_000]
    assert moved
    assert all(f["side"][i] == 1 for i in moved)
    # the bracketed sell: a take-profit buy or a stop buy follows it
    after = [i for i, ts in enumerate(f["ts"]) if ts > start + 60_000_000]
    assert f["side"][after[0]] == -1
    assert any(f["side"][i] == 1 for i in after[1:]), "the bracket closed the position"


def test_clicks_only_act_from_their_time_on(sources: list[Source]) -> None:
    clicks = _clicks(sources)
    short, hs = _run(sources, clicks[:2])
    full, hf = _run(sources, clicks)
    fs, ff = _fills(short, hs), _fills(full, hf)
    cut = short.start_ts + 30_000_000
    before_s = [x for x in zip(fs["ts"], fs["price"], fs["amount"], strict=True) if x[0] < cut]
    before_f = [x for x in zip(ff["ts"], ff["price"], ff["amount"], strict=True) if x[0] < cut]
    assert before_s == before_f  # later clicks never change what happened before them


@pytest.mark.parametrize(
    ("clicks", "message"),
    [
        ("not json", "not JSON"),
        ('{"t": 1}', "JSON list"),
        ('[{"t": 1, "action": "jump"}]', "needs 't'"),
        ('[{"t": 1, "action": "limit", "side": "buy", "size": 1}]', "positive price"),
        ('[{"t": 1, "action": "cancel", "ref": 0}]', "earlier limit click"),
        ('[{"t": 1, "action": "market", "side": "up", "size": 1}]', "side buy/sell"),
    ],
)
def test_bad_clicks_are_refused_with_a_reason(clicks: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_clicks(clicks)


def test_headless_backtest_reads_clicks_from_a_file(sources: list[Source], tmp_path: Path) -> None:
    from replayterm.cli import main

    path = tmp_path / "clicks.json"
    path.write_text(json.dumps(_clicks(sources)))
    out = tmp_path / "out"
    files = [str(s.path) for s in sources]
    code = main(
        [
            "backtest",
            *files,
            "--strategy",
            "manual",
            "--param",
            f"clicks=@{path}",
            "--to",
            "2024-01-02T00:03:00Z",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    fills = (out / "fills.csv").read_text().splitlines()
    session, handle = _run(sources, _clicks(sources))
    assert len(fills) - 1 == len(_fills(session, handle)["price"])
