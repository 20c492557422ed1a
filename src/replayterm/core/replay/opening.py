"""``OpenedData``: what opening data gives the replay, as one typed, frozen value.

Every way of opening data (Tardis files, raw recordings, and the sources other packages plug in:
MBO readers, databases) ends in ``build_instruments``, which returns this: the instruments (one
per exchange and symbol, each with its book, trades and other streams), the merged timeline
mapped from the cache (None: the cursor merges in memory), and the index job still to run (None:
everything is indexed). It is a read-only sequence of its instruments, so code that only needs
those iterates it like a list.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, overload

if TYPE_CHECKING:
    from replayterm.core.replay.indexing import IndexJob
    from replayterm.core.replay.instruments import Instrument
    from replayterm.core.replay.timeline import Timeline


@dataclass(frozen=True, eq=False)
class OpenedData(Sequence["Instrument"]):
    instruments: tuple[Instrument, ...]
    timeline: Timeline | None = None
    job: IndexJob | None = None  # indexing still to do; the replay may use what is ready

    def __len__(self) -> int:
        return len(self.instruments)

    @overload
    def __getitem__(self, i: int) -> Instrument: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Instrument]: ...
    def __getitem__(self, i: int | slice) -> Instrument | Sequence[Instrument]:
        return self.instruments[i]

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self.instruments)

    def indexed(self) -> OpenedData:
        """The same data once its job has run to the end (no job left)."""
        return replace(self, job=None)

    @property
    def sequence_gaps(self) -> list[object]:
        """Every sequence gap of every book (raw recordings), in time order."""
        gaps = [g for inst in self.instruments for g in inst.sequence_gaps]
        return sorted(gaps, key=lambda g: g.start_ts)
