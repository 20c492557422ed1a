"""Order flow of one instrument, as tables: the functions behind the app, the CLI and notebooks.

``OrderFlow.open(trades)`` maps (or builds once) the instrument's 1-second table; each method
returns plain columns (numpy arrays, prices as floats on the tick grid, sizes in the data's units)
that the CLI prints and the app draws, so both show the same numbers::

    from replayterm.core.flow import OrderFlow
    flow = OrderFlow.open(instrument.trades)
    flow.bars("1m").columns["close"]
    flow.profile(start, end, group_ticks=10).poc_price
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from replayterm.core.data.model import Source
from replayterm.core.flow.bars import bar_start_us, bar_starts, compute_bars, merged_range
from replayterm.core.flow.footprint import Footprint, footprint_of
from replayterm.core.flow.groups import Groups
from replayterm.core.flow.index import CancelFn, FlowIndex, ProgressFn, TradeColumns, open_flow
from replayterm.core.flow.profile import Profile, profile_of
from replayterm.core.flow.series import cvd_of, sums_of, vwap_of
from replayterm.core.flow.spec import DAY_US, BarSpec, Sessions, parse_interval

WHOLE_S = 1 << 40  # a bucket wider than any data: the whole range in one


@dataclass
class Table:
    """Named columns of equal length (numpy arrays), in display order."""

    columns: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def rows(self) -> list[dict[str, Any]]:
        names = list(self.columns)
        cols = [self.columns[n].tolist() for n in names]
        return [dict(zip(names, values, strict=True)) for values in zip(*cols, strict=True)]


@dataclass(frozen=True)
class ProfileResult:
    profile: Profile
    flow: OrderFlow

    def table(self) -> Table:
        p, g = self.profile, self.flow.grid
        return Table(
            {
                "price": g.price(p.ticks),
                "buy_volume": g.amount(p.buy),
                "sell_volume": g.amount(p.sell),
                "volume": g.amount(p.total),
                "delta": g.amount(p.buy - p.sell),
            },
            self.summary(),
        )

    def summary(self) -> dict[str, Any]:
        p, g = self.profile, self.flow.grid
        price = lambda t: None if t is None else float(g.price(t))  # noqa: E731
        return {
            "start_us": p.start,
            "end_us": p.end,
            "row_ticks": p.row_ticks,
            "row_size": float(g.price(p.row_ticks)) if p.row_ticks else None,
            "poc": price(p.poc),
            "vah": price(p.vah),
            "val": price(p.val),
            "value_area": p.value_area,
            "low": price(p.low),
            "high": price(p.high),
            "volume": float(g.amount(p.volume)),
            "buy_volume": float(g.amount(int(p.buy.sum()))),
            "sell_volume": float(g.amount(int(p.sell.sum()))),
        }


class OrderFlow:
    def __init__(self, index: FlowIndex) -> None:
        self.index = index
        self.grid = index.grid

    @classmethod
    def open(
        cls,
        trades: Any,
        sources: Sequence[Source] = (),
        *,
        tick_hint: float = 0.0,
        folder: Path | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelFn | None = None,
    ) -> OrderFlow:
        cols = trades if isinstance(trades, TradeColumns) else TradeColumns.of(trades)
        return cls(
            open_flow(cols, sources, tick_hint=tick_hint, folder=folder, progress=progress, cancel=cancel)
        )

    @property
    def span(self) -> tuple[int, int] | None:
        return self.index.span

    def _range(self, start: int | None, end: int | None) -> tuple[int, int]:
        span = self.span or (0, -1)
        return (span[0] if start is None else start, span[1] if end is None else end)

    # -- bars ------------------------------------------------------------------------------

    def merged(
        self,
        start: int,
        end: int,
        width_s: int,
        offset_s: int = 0,
        row_ticks: int = 1,
        with_cells: bool = True,
        window_s: int | None = None,
    ) -> Groups:
        """The trades in ``[start, end]`` merged into UTC-aligned buckets of ``width_s`` seconds."""
        return merged_range(self.index, start, end, width_s, offset_s, row_ticks, with_cells, window_s)

    def raw_bars(
        self,
        spec: BarSpec | str,
        start: int | None = None,
        end: int | None = None,
        row_ticks: int = 1,
        with_cells: bool = False,
    ) -> tuple[BarSpec, Groups]:
        spec = parse_interval(spec) if isinstance(spec, str) else spec
        start, end = self._range(start, end)
        if spec.is_time:
            return spec, self.merged(start, end, int(spec.size), 0, row_ticks, with_cells)
        return spec, compute_bars(self.index, spec, start, end, row_ticks, with_cells)

    def bar_times(self, spec: BarSpec, bars: Groups) -> np.ndarray:
        if spec.is_time:
            return bar_start_us(bars, spec)
        starts = bar_starts(self.index, spec)
        rows = starts[bars.key]
        return np.asarray(
            self.index.trades.local_ts.take(rows)
            if hasattr(self.index.trades.local_ts, "take")
            else self.index.trades.local_ts[rows],
            dtype=np.int64,
        )

    def bars(self, spec: BarSpec | str, start: int | None = None, end: int | None = None) -> Table:
        """OHLC, volume, buy/sell volume, trade count, notional and VWAP of each bar."""
        spec, b = self.raw_bars(spec, start, end)
        g = self.grid
        volume = b.buy + b.sell + b.other
        with np.errstate(invalid="ignore", divide="ignore"):
            vwap_ticks = g.ref_tick + b.s1 / np.where(volume > 0, volume, 1)
        return Table(
            {
                "start_us": self.bar_times(spec, b),
                "first_us": b.t_first.copy(),
                "last_us": b.t_last.copy(),
                "open": g.price(b.open),
                "high": g.price(b.high),
                "low": g.price(b.low),
                "close": g.price(b.close),
                "volume": g.amount(volume),
                "buy_volume": g.amount(b.buy),
                "sell_volume": g.amount(b.sell),
                "delta": g.amount(b.buy - b.sell),
                "trades": b.n_trades.copy(),
                "notional": g.notional(b.s1 + g.ref_tick * volume),
                "vwap": np.array([g.price_of(v) for v in vwap_ticks], dtype=np.float64),
            },
            {"interval": spec.text},
        )

    # -- footprint ---------------------------------------------------------------------------

    def footprint(
        self,
        spec: BarSpec | str,
        start: int | None = None,
        end: int | None = None,
        group_ticks: int = 1,
        ratio: float = 3.0,
        stack: int = 3,
    ) -> tuple[Footprint, Table]:
        """Per bar × price row: bid (sold) and ask (bought) volume, delta, total, imbalances."""
        spec, b = self.raw_bars(spec, start, end, group_ticks, with_cells=True)
        fp = footprint_of(b, group_ticks, ratio, stack)
        g = self.grid
        times = self.bar_times(spec, b)
        bar_of_cell = np.repeat(np.arange(len(b)), b.n_cells)
        lo = int(b.cell_lo[0]) if len(b) else 0
        cells = slice(lo, lo + int(b.n_cells.sum()))
        flags = fp.flags[cells]
        total = b.c_buy[cells] + b.c_sell[cells] + b.c_other[cells]
        table = Table(
            {
                "start_us": times[bar_of_cell],
                "price": g.price(b.c_tick[cells]),
                "bid_volume": g.amount(b.c_sell[cells]),
                "ask_volume": g.amount(b.c_buy[cells]),
                "delta": g.amount(b.c_buy[cells] - b.c_sell[cells]),
                "volume": g.amount(total),
                "trades": b.c_n[cells].copy(),
                "buy_imbalance": (flags & 1) > 0,
                "sell_imbalance": (flags & 2) > 0,
                "stacked_buy": (flags & 4) > 0,
                "stacked_sell": (flags & 8) > 0,
                "poc": b.c_tick[cells] == fp.poc[bar_of_cell],
            },
            {"interval": spec.text, "group_ticks": group_ticks, "ratio": ratio, "stack": stack},
        )
        return fp, table

    # -- profiles ------------------------------------------------------------------------------

    def profile(
        self, start: int | None = None, end: int | None = None, group_ticks: int = 1, value_area: float = 0.7
    ) -> ProfileResult:
        start, end = self._range(start, end)
        merged = self.merged(start, end, WHOLE_S, 0, group_ticks, True)
        return ProfileResult(profile_of(merged, start, end, group_ticks, value_area), self)

    def session_profiles(
        self,
        sessions: Sessions = Sessions(),  # noqa: B008
        start: int | None = None,
        end: int | None = None,
        group_ticks: int = 1,
        value_area: float = 0.7,
    ) -> list[tuple[ProfileResult, bool]]:
        """One profile per session touching the range, each with whether its POC is naked (no
        later session up to ``end`` traded at that price)."""
        start, end = self._range(start, end)
        merged = self.merged(
            start,
            end,
            86400,
            sessions.start_s,
            group_ticks,
            True,
            None if sessions.whole_day else sessions.length_s,
        )
        out: list[ProfileResult] = []
        for i in range(len(merged)):
            one = merged.slice(i, i + 1)
            s = int(one.key[0])
            lo, hi = max(start, sessions.start_of(s)), min(end, sessions.end_of(s))
            out.append(ProfileResult(profile_of(one, lo, hi, group_ticks, value_area), self))
        naked = []
        for i, r in enumerate(out):
            poc = r.profile.poc
            later = out[i + 1 :]
            touched = any(
                p.profile.low is not None
                and poc is not None
                and p.profile.low <= poc <= (p.profile.high or 0)
                for p in later
            )
            naked.append(not touched)
        return list(zip(out, naked, strict=True))

    # -- running series ------------------------------------------------------------------------

    def _session_priors(
        self, bars: Groups, times: np.ndarray, sessions: Sessions, first: int, anchor: int | None
    ) -> tuple[np.ndarray, Groups | None]:
        """Each bar's session number and the rows traded in the first bar's session before
        ``first`` (None when there are none)."""
        if anchor is not None:
            session = np.zeros(len(bars), dtype=np.int64)
            begin = anchor
        else:
            session = (times - sessions.offset_us) // DAY_US
            begin = sessions.start_of(int(session[0])) if len(bars) else first
        if begin >= first:
            return session, None
        before = self.merged(begin, first - 1, WHOLE_S, 0, 1, False)
        return session, before

    def cvd(
        self,
        spec: BarSpec | str,
        start: int | None = None,
        end: int | None = None,
        sessions: Sessions = Sessions(),  # noqa: B008
    ) -> Table:
        """Cumulative volume delta candles per bar, reset at each session start."""
        spec, b = self.raw_bars(spec, start, end)
        start, end = self._range(start, end)
        times = self.bar_times(spec, b)
        session, before = self._session_priors(b, times, sessions, start, None)
        prior = np.zeros(len(b), dtype=np.int64)
        if before is not None and len(before) and len(b):
            prior[:] = int((before.buy - before.sell).sum())
        c = cvd_of(b, session, prior)
        g = self.grid
        return Table(
            {
                "start_us": times,
                "open": g.amount(c.open),
                "high": g.amount(c.high),
                "low": g.amount(c.low),
                "close": g.amount(c.close),
                "delta": g.amount(b.buy - b.sell),
            },
            {"interval": spec.text, "session_start_s": sessions.start_s},
        )

    def vwap(
        self,
        spec: BarSpec | str,
        start: int | None = None,
        end: int | None = None,
        sessions: Sessions = Sessions(),  # noqa: B008
        anchor: int | None = None,
    ) -> Table:
        """VWAP after each bar (per session, or from ``anchor``) with ±1σ and ±2σ bands."""
        spec, b = self.raw_bars(spec, start if anchor is None else max(anchor, start or anchor), end)
        first, _ = self._range(start if anchor is None else max(anchor, start or anchor), end)
        times = self.bar_times(spec, b)
        session, before = self._session_priors(b, times, sessions, first, anchor)
        prior = np.zeros((len(b), 4), dtype=np.int64)
        if before is not None and len(before) and len(b):
            prior[:] = sums_of(before)
        v = vwap_of(b, session, prior, self.grid.ref_tick)
        g = self.grid
        price = np.vectorize(g.price_of, otypes=[np.float64])
        step = g.tick_units / 10**g.price_decimals
        sig = np.round(v.sigma * step, g.price_decimals + 3) if len(b) else v.sigma
        mid = price(v.vwap) if len(b) else v.vwap
        return Table(
            {
                "start_us": times,
                "vwap": mid,
                "sigma": sig,
                "upper_1": np.round(mid + sig, g.price_decimals + 3),
                "lower_1": np.round(mid - sig, g.price_decimals + 3),
                "upper_2": np.round(mid + 2 * sig, g.price_decimals + 3),
                "lower_2": np.round(mid - 2 * sig, g.price_decimals + 3),
            },
            {"interval": spec.text, "anchor_us": anchor},
        )
