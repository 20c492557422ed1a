"""What the order-flow views show at one moment, computed off the GUI thread (Qt-free).

``FlowViewBuilder.build(request)`` answers "the bars, CVD, VWAP, profile (and footprint cells)
of this time window, as they stood at replay time ``now``": the same ``OrderFlow`` tables the
CLI prints, clipped at ``now``, so the app after a seek shows exactly what a forward replay (or
``replayterm bars --to now``) shows. Earlier sessions' profiles (for naked POCs) are computed once
and kept: a session that has ended never changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from replayterm.core.flow.api import OrderFlow, ProfileResult, Table
from replayterm.core.flow.spec import Sessions, parse_interval, parse_sessions

MAX_FOOTPRINT_BARS = 600  # beyond this many bars in view the footprint is drawn as candles


@dataclass(frozen=True)
class FlowRequest:
    now: int  # replay time (µs): nothing after it is shown
    x0: int  # the visible window (µs)
    x1: int
    interval: str = "1m"
    group_ticks: int = 1
    footprint: bool = False
    # "session" (the session of ``now``), "visible" (the window) or "fixed" (``fixed``, up to now)
    profile: str = "session"
    fixed: tuple[int, int] | None = None
    value_area: float = 0.7
    ratio: float = 3.0
    anchor: int | None = None  # anchored VWAP from this moment
    generation: int = 0
    client: str = "flow"  # which view asked (each view's newest request supersedes its older ones)
    profile_only: bool = False  # just the profile (the ladder's volume at price)
    sessions: str = "utc"  # "utc", "HH:MM" (days starting then) or "HH:MM-HH:MM" (those hours)


@dataclass
class FlowFrame:
    request: FlowRequest
    tick_size: float
    bars: Table
    cvd: Table
    vwap: Table
    anchored: Table | None
    profile: ProfileResult | None
    footprint: Table | None
    naked_pocs: list[tuple[int, float]] = field(default_factory=list)  # (session start µs, price)
    note: str = ""

    @property
    def empty(self) -> bool:
        return len(self.bars) == 0


class FlowViewBuilder:
    def __init__(self, flow: OrderFlow, sessions: Sessions = Sessions()) -> None:  # noqa: B008
        self.flow = flow
        self.sessions = sessions
        self._ended: dict[tuple[int, int, float], list[tuple[int, int | None, int | None, int | None]]] = {}

    def build(self, req: FlowRequest) -> FlowFrame:
        sessions = parse_sessions(req.sessions)
        if sessions != self.sessions:
            self.sessions = sessions
            self._ended = {}
        flow = self.flow
        spec = parse_interval(req.interval)
        span = flow.span
        empty = Table({})
        if span is None or req.now < span[0]:
            return FlowFrame(req, flow.grid.tick_size, empty, empty, empty, None, None, None)
        end = min(req.now, req.x1, span[1])
        start = max(req.x0, span[0])
        if spec.is_time:
            start = start // spec.width_us * spec.width_us  # whole first bar
        if end < start:
            return FlowFrame(req, flow.grid.tick_size, empty, empty, empty, None, None, None)
        if req.profile_only:
            s = self.sessions.session_of(min(req.now, span[1]))
            prof = flow.profile(
                max(self.sessions.start_of(s), span[0]), min(req.now, span[1]), 1, req.value_area
            )
            return FlowFrame(req, flow.grid.tick_size, empty, empty, empty, None, prof, None)
        bars = flow.bars(spec, start, end)
        cvd = flow.cvd(spec, start, end, self.sessions)
        vwap = flow.vwap(spec, start, end, self.sessions)
        anchored = None
        if req.anchor is not None and req.anchor <= end:
            anchored = flow.vwap(spec, max(start, req.anchor), end, anchor=req.anchor)
        footprint = None
        note = ""
        if req.footprint:
            if len(bars) <= MAX_FOOTPRINT_BARS:
                footprint = flow.footprint(spec, start, end, req.group_ticks, req.ratio)[1]
            else:
                note = f"{len(bars)} bars in view: zoom in for the footprint"
        now = min(req.now, span[1])
        if req.profile == "visible":
            profile = flow.profile(start, end, req.group_ticks, req.value_area)
        elif req.profile == "fixed" and req.fixed is not None:
            lo, hi = req.fixed
            profile = flow.profile(max(lo, span[0]), min(hi, now), req.group_ticks, req.value_area)
        else:
            s = self.sessions.session_of(now)
            profile = flow.profile(
                max(self.sessions.start_of(s), span[0]), now, req.group_ticks, req.value_area
            )
        return FlowFrame(
            req,
            flow.grid.tick_size,
            bars,
            cvd,
            vwap,
            anchored,
            profile,
            footprint,
            self._naked(req, now),
            note,
        )

    def _naked(self, req: FlowRequest, now: int) -> list[tuple[int, float]]:
        """POCs of the sessions ended before ``now`` that no later trade up to ``now`` reached."""
        flow = self.flow
        span = flow.span
        assert span is not None
        current = self.sessions.session_of(now)
        key = (current, req.group_ticks, req.value_area)
        ended = self._ended.get(key)
        if ended is None:
            last_end = self.sessions.start_of(current) - 1
            ended = []
            if last_end >= span[0]:
                for r, _ in flow.session_profiles(
                    self.sessions, span[0], last_end, req.group_ticks, req.value_area
                ):
                    p = r.profile
                    ended.append((p.start, p.poc, p.low, p.high))
            self._ended = {key: ended}
        today = flow.profile(self.sessions.start_of(current), now, 1, req.value_area).profile
        out = []
        for i, (start, poc, _lo, _hi) in enumerate(ended):
            if poc is None:
                continue
            later = [(lo, hi) for _, _, lo, hi in ended[i + 1 :]] + [(today.low, today.high)]
            if not any(lo is not None and hi is not None and lo <= poc <= hi for lo, hi in later):
                out.append((start, float(flow.grid.price(poc))))
        return out
