"""What changed in each strategy since the last frame: the GUI's incremental view of a session.

``StrategyStreams.collect`` returns one ``StrategyFrame`` per strategy with the rows appended
since the previous call (or everything again when the strategy's records were rewound, which the
run id tells, or when the caller asks for a reset after a seek or open).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from replayterm.core.execution.exchange import RestingOrder
from replayterm.core.session.views import StrategyInfo
from replayterm.core.strategy.records import RecordChunk

if TYPE_CHECKING:
    from replayterm.core.session.session import ReplaySession


@dataclass(slots=True)
class StrategyFrame:
    """One strategy's state now plus its streams since the previous frame.

    ``reset`` means the streams start from row 0: views drop what they hold for this strategy.
    """

    info: StrategyInfo
    reset: bool
    fills: RecordChunk
    signals: RecordChunk
    equity: RecordChunk
    logs: RecordChunk
    plots: dict[str, RecordChunk]
    resting: list[RestingOrder] = field(default_factory=list)

    @property
    def key(self) -> int:
        return self.info.handle.id

    def followed_by(self, newer: StrategyFrame) -> StrategyFrame:
        """This frame's streams continued by ``newer``'s, with ``newer``'s state: what a view
        that skipped this frame must see. A ``reset`` newer frame replaces this one."""
        if newer.reset:
            return newer
        plots = dict(self.plots)
        for name, chunk in newer.plots.items():
            plots[name] = concat_chunks(plots[name], chunk) if name in plots else chunk
        return StrategyFrame(
            info=newer.info,
            reset=self.reset,
            fills=concat_chunks(self.fills, newer.fills),
            signals=concat_chunks(self.signals, newer.signals),
            equity=concat_chunks(self.equity, newer.equity),
            logs=concat_chunks(self.logs, newer.logs),
            plots=plots,
            resting=newer.resting,
        )


def concat_chunks(a: RecordChunk, b: RecordChunk) -> RecordChunk:
    """Rows [a.start, b.end) from two consecutive chunks of one record log."""
    if len(b) == 0:
        return a
    if len(a) == 0:
        return b
    columns: dict[str, Any] = {}
    for name, vb in b.columns.items():
        va = a.columns.get(name)
        if va is None:
            columns[name] = vb
        elif isinstance(vb, np.ndarray):
            columns[name] = np.concatenate([np.asarray(va), vb])
        else:
            columns[name] = list(va) + list(vb)
    return RecordChunk(a.start, b.end, columns)


@dataclass
class _Marks:
    run_id: int
    fills: int = 0
    signals: int = 0
    equity: int = 0
    logs: int = 0
    plots: dict[str, int] = field(default_factory=dict)


class StrategyStreams:
    def __init__(self) -> None:
        self._marks: dict[int, _Marks] = {}

    def forget(self) -> None:
        self._marks.clear()

    def collect(self, session: ReplaySession, reset: bool = False) -> list[StrategyFrame]:
        frames = []
        live = set()
        for handle in session.strategies:
            live.add(handle.id)
            info = session.info(handle)
            marks = self._marks.get(handle.id)
            fresh = reset or marks is None or marks.run_id != info.run_id
            if fresh:
                marks = self._marks[handle.id] = _Marks(info.run_id)
            assert marks is not None
            fills = session.fills(handle, marks.fills)
            signals = session.signals(handle, marks.signals)
            equity = session.equity(handle, marks.equity)
            logs = session.logs(handle, marks.logs)
            plots = session.plots(handle, dict(marks.plots))
            marks.fills, marks.signals = fills.end, signals.end
            marks.equity, marks.logs = equity.end, logs.end
            marks.plots.update({name: chunk.end for name, chunk in plots.items()})
            frames.append(
                StrategyFrame(
                    info=info,
                    reset=fresh,
                    fills=fills,
                    signals=signals,
                    equity=equity,
                    logs=logs,
                    plots=plots,
                    resting=session.resting_orders(handle),
                )
            )
        for gone in set(self._marks) - live:
            del self._marks[gone]
        return frames
