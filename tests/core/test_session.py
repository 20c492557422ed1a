"""ReplaySession: moving with and without strategies, strategies joining late, reload, params,
enable/disable, separate accounts, incremental streams, timers and the no-look-ahead rule."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from replayterm.core.data import Cancelled, Source, open_sources
from replayterm.core.data.synthetic import generate_files
from replayterm.core.replay.cursor import ReplayCursor
from replayterm.core.replay.instruments import build_instruments
from replayterm.core.session import ReplaySession, SessionSettings
from replayterm.core.strategy import Strategy, StrategyContext, StrategyLoadError, StrategyStatus


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[Source]:
    g = generate_files(tmp_path_factory.mktemp("market"), minutes=1.0, seed=11)
    return open_sources([g.book, g.trades], use_cache=False)


@pytest.fixture(scope="module")
def two_symbols(tmp_path_factory: pytest.TempPathFactory) -> list[Source]:
    out = tmp_path_factory.mktemp("two")
    a = generate_files(out / "a", minutes=0.5, seed=1, symbol="AAAUSD")
    b = generate_files(out / "b", minutes=0.5, seed=2, symbol="BBBUSD")
    return open_sources([a.book, a.trades, b.book, b.trades], use_cache=False)


def columns(chunk) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    return {k: np.asarray(v).tobytes() for k, v in chunk.columns.items()}


def record(session: ReplaySession, handle) -> dict:  # type: ignore[no-untyped-def]
    return {
        "fills": columns(session.fills(handle)),
        "equity": columns(session.equity(handle)),
        "signals": session.signals(handle).columns["kind"],
        "plots": {k: columns(v) for k, v in session.plots(handle).items()},
    }


class Probe(Strategy):
    """Checks what it may see in every callback and keeps a trace of the calls."""

    name = "probe"

    def __init__(self, params: object = None) -> None:
        super().__init__(params)
        self.trace: list[tuple[str, int]] = []
        self.tops: list[tuple[int, float | None]] = []
        self.timer_due: list[int] = []

    def _top(self, ctx: StrategyContext) -> None:
        bid = ctx.book.best_bid() if ctx.book is not None else None
        self.tops.append((ctx.now, None if bid is None else bid[0]))
        recent = ctx.recent_trades(5)
        assert len(recent) == 0 or int(recent.local_ts.max()) <= ctx.now

    def on_start(self, ctx: StrategyContext) -> None:
        self.trace.append(("start", ctx.now))
        self._arm(ctx, 1_500_000)

    def _arm(self, ctx: StrategyContext, delay: int) -> None:
        self.timer_due.append(ctx.now + delay)
        ctx.set_timer(delay)

    def on_book(self, ctx: StrategyContext, book: object) -> None:
        self.trace.append(("book", ctx.now))
        self._top(ctx)
        assert book is ctx.book
        assert not hasattr(book, "prices")  # the file's price grid would tell what is to come
        assert not hasattr(ctx.instrument, "trades")

    def on_trade(self, ctx: StrategyContext, trade) -> None:  # type: ignore[no-untyped-def]
        assert trade.local_ts == ctx.now
        self.trace.append(("trade", ctx.now))

    def on_timer(self, ctx: StrategyContext) -> None:
        self.trace.append(("timer", ctx.now))
        self._top(ctx)
        if len(self.timer_due) < 20:
            self._arm(ctx, 1_234_567)
            if len(ctx.open_orders) == 0 and ctx.book is not None and ctx.book.best_bid() is not None:
                ctx.buy(0.01)

    def on_fill(self, ctx: StrategyContext, fill) -> None:  # type: ignore[no-untyped-def]
        assert fill.local_ts <= ctx.now
        self.trace.append(("fill", ctx.now))

    def on_stop(self, ctx: StrategyContext) -> None:
        self.trace.append(("stop", ctx.now))


def test_without_strategies_the_session_moves_like_the_cursor(sources: list[Source]) -> None:
    session = ReplaySession(sources)
    cursor = ReplayCursor(build_instruments(sources))
    mid = (session.start_ts + session.end_ts) // 2
    for move in ("advance", "seek_back", "message", "trade", "end"):
        if move == "advance":
            assert session.advance_to(mid) == cursor.advance_to(mid)
        elif move == "seek_back":
            session.seek(mid - 5_000_000)
            cursor.seek(mid - 5_000_000)
        elif move == "message":
            assert session.step_message() == len(cursor.step_message())
        elif move == "trade":
            assert session.step_trade() == len(cursor.step_trade())
        else:
            session.run_to_end()
            cursor.advance_to(cursor.end_ts)
        assert (session.position, session.now) == (cursor.position, cursor.now)
        ours, theirs = session.instruments[0].book, cursor.instruments[0].book
        assert ours is not None
        assert theirs is not None
        assert ours.book.same_state(theirs.book)


def test_a_strategy_added_late_equals_one_added_at_the_start(sources: list[Source]) -> None:
    mid = (ReplaySession(sources).start_ts + ReplaySession(sources).end_ts) // 2
    early = ReplaySession(sources)
    h_early = early.add_strategy("market_maker", {"requote_ms": 100})
    other = early.add_strategy("imbalance_momentum")
    early.advance_to(mid)
    late = ReplaySession(sources)
    late.advance_to(mid - 7_000_000)
    late.step_message()  # leave the cursor between two events of one time, if any
    late.advance_to(mid)
    h_late = late.add_strategy("market_maker", {"requote_ms": 100})
    assert late.position == early.position
    assert late.now == early.now
    assert record(late, h_late) == record(early, h_early)
    before = record(early, other)
    early.add_strategy("mean_reversion")  # joins at mid: the others are not re-run or disturbed
    assert record(early, other) == before
    assert len(early.fills(h_early)) > 0


def test_each_strategy_has_its_own_account_and_exchange(sources: list[Source]) -> None:
    session = ReplaySession(sources)
    small = session.add_strategy("market_maker", {"size": 0.01, "requote_ms": 100})
    big = session.add_strategy("market_maker", {"size": 0.02, "max_position": 0.1, "requote_ms": 100})
    session.run_to_end()
    assert [h.name for h in session.strategies] == ["market_maker", "market_maker#2"]
    for handle in (small, big):
        fills = session.fills(handle)
        info = session.info(handle)
        assert len(fills) == info.fills > 0
        assert info.position == pytest.approx(float(np.sum(fills["side"] * fills["amount"])), abs=1e-9)
        assert set(np.unique(fills["order_id"]).tolist()) <= set(range(1, 10_000))
    assert session.fills(small)["amount"].max() <= 0.01 + 1e-12
    assert session.fills(big)["amount"].max() > 0.01


def test_streams_can_be_read_incrementally(sources: list[Source]) -> None:
    session = ReplaySession(sources)
    handle = session.add_strategy("market_maker", {"requote_ms": 100})
    got: dict[str, list] = {"fills": [], "equity": [], "signals": [], "logs": []}
    at = dict.fromkeys(got, 0)
    plots_at: dict[str, int] = {}
    plot_points: dict[str, list] = {}
    t = session.start_ts
    while not session.at_end:
        t += 3_000_000
        session.advance_to(t)
        for name, read in (
            ("fills", session.fills),
            ("equity", session.equity),
            ("signals", session.signals),
            ("logs", session.logs),
        ):
            chunk = read(handle, at[name])
            assert chunk.start == at[name]
            got[name].append(chunk)
            at[name] = chunk.end
        for series, chunk in session.plots(handle, plots_at).items():
            plot_points.setdefault(series, []).append(chunk["value"])
            plots_at[series] = chunk.end
    for name in ("fills", "equity"):
        whole = getattr(session, name)(handle)
        joined = np.concatenate([c["ts"] for c in got[name]])
        assert np.array_equal(joined, whole["ts"])
        assert len(whole) > 0
    full = session.plots(handle)
    for series, parts in plot_points.items():
        assert np.array_equal(np.concatenate(parts), full[series]["value"])
    assert sum(len(c) for c in got["logs"]) == len(session.logs(handle))


def test_timers_fire_on_time_after_the_events_of_their_time(sources: list[Source]) -> None:
    session = ReplaySession(sources)
    handle = session.add_strategy(Probe)
    session.run_to_end()
    probe = session._slot(handle).instance  # the strategy object of the current run
    assert isinstance(probe, Probe)
    times = [t for _, t in probe.trace]
    assert times == sorted(times)
    assert probe.trace[0] == ("start", session.start_ts - 1)
    assert probe.trace[-1] == ("stop", session.end_ts)
    fired = [t for kind, t in probe.trace if kind == "timer"]
    assert fired == probe.timer_due[: len(fired)]
    assert len(fired) == 20
    for k, (kind, t) in enumerate(probe.trace):
        if kind == "timer":  # every event at the timer's time came before it
            assert all(u > t for kind2, u in probe.trace[k + 1 :] if kind2 in ("book", "trade"))
    assert any(kind == "fill" for kind, _ in probe.trace)


def test_a_strategy_sees_the_book_as_of_its_time_and_never_later(sources: list[Source]) -> None:
    session = ReplaySession(sources)
    handle = session.add_strategy(Probe)
    session.run_to_end()
    probe = session._slot(handle).instance
    assert isinstance(probe, Probe)
    replayer = session.instruments[0].book
    assert replayer is not None
    assert replayer.checkpoints is not None
    best = replayer.checkpoints.best_idx
    assert best is not None
    for now, bid in probe.tops:
        g = int(np.searchsorted(replayer.events.group_ts, now, side="right")) - 1
        expected = None if g < 0 or best[g, 0] < 0 else float(replayer.events.prices[best[g, 0]])
        assert bid == expected


def test_disable_freezes_and_enable_runs_again_from_the_start(sources: list[Source]) -> None:
    reference = ReplaySession(sources)
    ref = reference.add_strategy("market_maker", {"requote_ms": 100})
    reference.run_to_end()
    session = ReplaySession(sources)
    handle = session.add_strategy("market_maker", {"requote_ms": 100})
    mid = (session.start_ts + session.end_ts) // 2
    session.advance_to(mid)
    frozen = record(session, handle)
    session.enable(handle, False)
    session.run_to_end()
    assert session.info(handle).status is StrategyStatus.DISABLED
    assert record(session, handle)["fills"] == frozen["fills"]
    run_id = session.info(handle).run_id
    session.enable(handle)
    assert session.info(handle).run_id != run_id
    assert session.info(handle).finished
    assert record(session, handle) == record(reference, ref)
    session.remove_strategy(handle)
    assert session.strategies == []
    with pytest.raises(KeyError):
        session.info(handle)


PLUGIN = """
import dataclasses
from replayterm.core.strategy import Strategy

class Ping(Strategy):
    name = "ping"

    @dataclasses.dataclass
    class Params:
        every_ms: int = 2000
        size: float = 0.01

    def on_start(self, ctx):
        ctx.set_timer(self.params.every_ms * 1000)

    def on_timer(self, ctx):
        ctx.set_timer(self.params.every_ms * 1000)
        ctx.signal("KIND", 1.0)
        if ctx.book is not None and ctx.book.best_ask() is not None:
            ctx.buy(self.params.size)
"""


def test_hot_reload_and_new_params_rerun_the_strategy_from_the_start(
    sources: list[Source], tmp_path: Path
) -> None:
    path = tmp_path / "ping.py"
    path.write_text(PLUGIN.replace("KIND", "v1"))
    session = ReplaySession(sources)
    handle = session.add_strategy(str(path), {"every_ms": "3000"})
    mid = (session.start_ts + session.end_ts) // 2
    session.advance_to(mid)
    first = session.signals(handle)
    assert set(first["kind"]) == {"v1"}
    assert len(first) > 3

    path.write_text(PLUGIN.replace("KIND", "v2"))
    session.reload_strategy(handle)
    again = session.signals(handle)
    assert set(again["kind"]) == {"v2"}
    assert np.array_equal(again["ts"], first["ts"])  # same params carried over, same times
    assert session.info(handle).params == {"every_ms": 3000, "size": 0.01}

    path.write_text("def broken(:\n")
    with pytest.raises(StrategyLoadError, match=r"ping\.py"):
        session.reload_strategy(handle)
    assert set(session.signals(handle)["kind"]) == {"v2"}  # the running version is kept

    session.set_params(handle, {"every_ms": 1000, "size": 0.02})
    assert len(session.signals(handle)) > len(again)
    fills = session.fills(handle)
    per_order: dict[int, float] = {}
    for oid, amount in zip(fills["order_id"].tolist(), fills["amount"].tolist(), strict=True):
        per_order[oid] = per_order.get(oid, 0.0) + amount
    # Each order is the new size (it may walk several levels: the account's own fills consume them).
    assert all(abs(total - 0.02) < 1e-12 for total in per_order.values())
    with pytest.raises(ValueError, match="unknown parameter"):
        session.set_params(handle, {"nope": 1})


def test_strategies_trade_the_instrument_they_are_given(two_symbols: list[Source]) -> None:
    session = ReplaySession(two_symbols, SessionSettings(focus="BBBUSD"))
    on_b = session.add_strategy(Probe)
    on_a = session.add_strategy(Probe, instrument="AAAUSD")
    session.run_to_end()
    assert session.info(on_b).instrument.endswith("BBBUSD")
    assert session.info(on_a).instrument.endswith("AAAUSD")
    books = {}
    for handle, inst in ((on_a, 0), (on_b, 1)):
        probe = session._slot(handle).instance
        assert isinstance(probe, Probe)
        replayer = session.instruments[inst].book
        assert replayer is not None
        seen = sorted({t for kind, t in probe.trace if kind == "book"})
        assert seen == sorted(set(replayer.events.group_ts.tolist()))
        books[inst] = seen
    with pytest.raises(ValueError, match="no instrument 'XYZ'"):
        session.add_strategy(Probe, instrument="XYZ")


def test_summary_is_json_and_agrees_with_the_account(sources: list[Source]) -> None:
    session = ReplaySession(sources, SessionSettings(initial_cash=10_000.0))
    handle = session.add_strategy("imbalance_momentum")
    session.run_to_end()
    summary = session.summary(handle)
    json.dumps(summary, allow_nan=False)
    info = session.info(handle)
    metrics = summary["metrics"]
    assert metrics["fills"] == info.fills > 0
    assert metrics["fees"] == pytest.approx(info.pnl.fees)
    assert metrics["net_pnl"] == pytest.approx(info.pnl.net, abs=1e-6)
    assert summary["params"] == dataclasses.asdict(session._slot(handle).params)
    eq = session.equity(handle)
    assert eq["equity"][-1] == pytest.approx(10_000.0 + info.pnl.net, abs=1e-6)
    assert np.all(np.diff(eq["ts"]) >= 0)


def test_a_timer_due_at_an_event_time_fires_after_that_event(sources: list[Source]) -> None:
    session = ReplaySession(sources)
    targets = [int(t) for t in session.cursor.timeline.ts[100:3000:97]]

    class AtEvents(Probe):
        def on_start(self, ctx: StrategyContext) -> None:
            for t in targets:
                ctx.set_timer(t - ctx.now)

        def on_timer(self, ctx: StrategyContext) -> None:
            self.trace.append(("timer", ctx.now))

    handle = session.add_strategy(AtEvents)
    for t in targets[::2]:  # batch ends exactly at some of the timers' times
        session.advance_to(t)
    session.run_to_end()
    probe = session._slot(handle).instance
    assert isinstance(probe, Probe)
    for t in targets:
        at_t = [k for k, (kind, u) in enumerate(probe.trace) if u == t]
        kinds = [probe.trace[k][0] for k in at_t]
        assert "timer" in kinds, kinds
        assert kinds[-1] == "timer", kinds
        assert kinds.index("timer") > 0  # events at t were seen first


@pytest.fixture(scope="module")
def longer(tmp_path_factory: pytest.TempPathFactory) -> list[Source]:
    g = generate_files(tmp_path_factory.mktemp("longer"), minutes=3.0, seed=12)
    return open_sources([g.book, g.trades], use_cache=False)


def test_long_moves_report_progress_and_can_be_cancelled(longer: list[Source]) -> None:
    reference = ReplaySession(longer)
    ref = reference.add_strategy("market_maker", {"requote_ms": 100})
    reference.run_to_end()

    session = ReplaySession(longer)
    session.add_strategy("market_maker", {"requote_ms": 100})
    session.run_to_end()
    end_state = (session.position, session.now)
    with pytest.raises(Cancelled):  # joining late replays from the start: cancel it
        session.add_strategy("imbalance_momentum", cancel=lambda: True)
    assert [h.name for h in session.strategies] == ["market_maker"]
    assert (session.position, session.now) == end_state

    seen: list[float] = []
    with pytest.raises(Cancelled):  # seeking back replays from the start: cancel halfway
        session.seek(session.end_ts - 1, progress=lambda f, _: seen.append(f), cancel=lambda: len(seen) >= 1)
    assert seen
    assert 0 < session.position < end_state[0]
    handle = session.strategies[0]
    assert session.info(handle).status is StrategyStatus.ENABLED
    session.run_to_end()  # carries on from where the cancel left it: the same result
    assert record(session, handle) == record(reference, ref)


def test_a_window_starting_mid_file_begins_with_the_book_rebuilt_from_earlier_data(
    sources: list[Source],
) -> None:
    reference = ReplaySession(sources)
    start = reference.start_ts + (reference.end_ts - reference.start_ts) // 2
    session = ReplaySession(sources, start_at=start)
    handle = session.add_strategy(Probe)
    session.run_to_end()
    probe = session._slot(handle).instance
    assert isinstance(probe, Probe)
    assert probe.trace[0][0] == "start"
    assert all(ts >= start for _, ts in probe.trace[1:])
    first_top = probe.tops[0][1]
    assert first_top is not None  # a full book at once, not an empty one until a re-snapshot
    reference.seek(probe.tops[0][0])
    book = reference.instruments[0].book
    assert book is not None
    assert book.book.best_bid() is not None
    assert first_top == book.book.best_bid()[0]  # type: ignore[index]
    session.seek(reference.start_ts)  # not before the window: clamped to its start
    assert session.position == session.origin
