"""Hand-made frames for GUI tests and the screenshot script (never used by the product).

``BookWalk`` is a random-walk limit order book (persistent depth profile, walls at round
prices, a drifting mid, bursts of same-timestamp prints) that emits Frames the way the replay
worker does: latest state plus the streams appended since the previous frame.
"""

from __future__ import annotations

import numpy as np

from replayterm.core.frames import BookStats, Frame, TopSeries, TradeBatch

T0 = 1_721_304_000_000_000  # 2024-07-18T12:00:00Z


def levels(prices: list[float], sizes: list[float]) -> np.ndarray:
    return np.column_stack([np.asarray(prices, dtype=np.float64), np.asarray(sizes, dtype=np.float64)])


def trades(ts: list[int], price: list[float], amount: list[float], side: list[int]) -> TradeBatch:
    return TradeBatch(
        local_ts=np.asarray(ts, dtype=np.int64),
        exch_ts=np.asarray(ts, dtype=np.int64) - 1000,
        price=np.asarray(price, dtype=np.float64),
        amount=np.asarray(amount, dtype=np.float64),
        side=np.asarray(side, dtype=np.int8),
    )


def series(ts: list[int], bid: list[float], ask: list[float], imb: list[float]) -> TopSeries:
    return TopSeries(
        local_ts=np.asarray(ts, dtype=np.int64),
        best_bid=np.asarray(bid, dtype=np.float64),
        best_ask=np.asarray(ask, dtype=np.float64),
        imbalance=np.asarray(imb, dtype=np.float64),
    )


def make_frame(
    bids: np.ndarray | None = None,
    asks: np.ndarray | None = None,
    *,
    generation: int = 0,
    reset: bool = False,
    ts: int = T0,
    tick: float = 0.5,
    trade_batch: TradeBatch | None = None,
    top: TopSeries | None = None,
    playing: bool = False,
    start: int = T0,
    end: int = T0 + 3_600_000_000,
    lag_us: int = 0,
    symbol: str = "TEST",
    at_end: bool = False,
) -> Frame:
    bids = np.empty((0, 2)) if bids is None else bids
    asks = np.empty((0, 2)) if asks is None else asks
    bb = float(bids[0, 0]) if len(bids) else float("nan")
    ba = float(asks[0, 0]) if len(asks) else float("nan")
    stats = BookStats(
        best_bid=bb,
        best_ask=ba,
        mid=(bb + ba) / 2,
        spread=ba - bb,
        spread_bps=(ba - bb) / ((bb + ba) / 2) * 1e4,
        microprice=(bb + ba) / 2,
        imbalance=0.0,
        bid_levels=len(bids),
        ask_levels=len(asks),
    )
    return Frame(
        generation=generation,
        reset=reset,
        symbol=symbol,
        tick_size=tick,
        local_ts=ts,
        exch_ts=ts - 1500,
        start_ts=start,
        end_ts=end,
        at_end=at_end,
        bids=bids,
        asks=asks,
        stats=stats,
        trades=trade_batch if trade_batch is not None else TradeBatch(),
        series=top if top is not None else TopSeries(),
        playing=playing,
        lag_us=lag_us,
    )


class BookWalk:
    """Random-walk book with ``depth`` levels per side around a drifting mid."""

    def __init__(
        self,
        seed: int = 7,
        mid: float = 64_000.0,
        tick: float = 0.1,
        depth: int = 200,
        span_ticks: int = 6000,
    ) -> None:
        self.rng = np.random.default_rng(seed)
        self.tick = tick
        self.depth = depth
        self.base = round(mid / tick) - span_ticks // 2  # tick index of sizes[0]
        n = span_ticks
        idx = np.arange(n) + self.base
        self.sizes = self.rng.lognormal(-0.3, 0.9, n)
        walls = idx % 50 == 0
        self.sizes[walls] *= self.rng.uniform(6, 18, walls.sum())
        self.sizes[idx % 10 == 0] *= 2.0
        self.holes = self.rng.random(n) < 0.08
        self.mid_ticks = float(round(mid / tick))
        self.spread = 1
        self.ts = T0
        self.start = T0
        self.end = T0 + 6 * 3_600_000_000
        self.generation = 0
        self.events = 0
        self.momentum = 0.0

    def _book(self) -> tuple[np.ndarray, np.ndarray]:
        bb = int(np.floor(self.mid_ticks - self.spread / 2))
        ba = bb + self.spread
        bid_idx = np.arange(bb, bb - 3 * self.depth, -1)
        ask_idx = np.arange(ba, ba + 3 * self.depth)
        out = []
        for ticks in (bid_idx, ask_idx):
            rel = ticks - self.base
            keep = ~self.holes[rel]
            keep[0] = True
            ticks, rel = ticks[keep][: self.depth], rel[keep][: self.depth]
            out.append(np.column_stack([ticks * self.tick, np.round(self.sizes[rel], 3) + 0.001]))
        return out[0], out[1]

    def step(self, dt_us: int = 100_000, trades_per_step: float = 12.0, reset: bool = False) -> Frame:
        rng = self.rng
        t0, t1 = self.ts, self.ts + dt_us
        n_series = 4
        s_ts = np.linspace(t0, t1, n_series + 1)[1:].astype(np.int64)
        s_bid, s_ask, s_imb = [], [], []
        tr_ts, tr_px, tr_amt, tr_side = [], [], [], []
        for k in range(n_series):
            self.momentum = 0.85 * self.momentum + rng.normal(0, 0.6)
            self.mid_ticks += self.momentum * 0.5
            self.spread = 1 if rng.random() < 0.8 else int(rng.integers(2, 5))
            self.sizes *= np.exp(rng.normal(0, 0.03, self.sizes.shape))
            bids, asks = self._book()
            s_bid.append(bids[0, 0])
            s_ask.append(asks[0, 0])
            b5, a5 = bids[:5, 1].sum(), asks[:5, 1].sum()
            s_imb.append((b5 - a5) / (b5 + a5))
            n_tr = rng.poisson(trades_per_step / n_series)
            base_ts = int(s_ts[k] - dt_us // n_series // 2)
            for _ in range(n_tr):
                side = 1 if rng.random() < 0.5 + 0.1 * np.tanh(self.momentum) else -1
                burst = int(rng.integers(1, 4)) if rng.random() < 0.3 else 1
                ts = base_ts + int(rng.integers(0, max(1, dt_us // n_series)))
                px = asks[0, 0] if side > 0 else bids[0, 0]
                for j in range(burst):
                    tr_ts.append(ts)
                    tr_px.append(px + side * self.tick * (j // 2))
                    tr_amt.append(round(float(rng.lognormal(-2.0, 1.4)), 3))
                    tr_side.append(side)
        order = np.argsort(np.asarray(tr_ts, dtype=np.int64), kind="stable")
        self.ts = t1
        self.events += 40 + len(tr_ts)
        bids, asks = self._book()
        frame = make_frame(
            bids,
            asks,
            generation=self.generation,
            reset=reset,
            ts=t1,
            tick=self.tick,
            trade_batch=trades(
                list(np.asarray(tr_ts, dtype=np.int64)[order]),
                list(np.asarray(tr_px)[order]),
                list(np.asarray(tr_amt)[order]),
                list(np.asarray(tr_side)[order]),
            ),
            top=series(list(s_ts), s_bid, s_ask, s_imb),
            playing=True,
            start=self.start,
            end=self.end,
            symbol="BTCUSDT",
        )
        frame.stats.imbalance = float(s_imb[-1])
        frame.stats.microprice = float(
            (bids[0, 0] * asks[0, 1] + asks[0, 0] * bids[0, 1]) / (asks[0, 1] + bids[0, 1])
        )
        frame.stats.crossed_removals = 3
        frame.stats.resnapshots = 1
        frame.events_per_s = 412_000.0
        frame.events_applied = self.events
        frame.speed = 1.0
        return frame
