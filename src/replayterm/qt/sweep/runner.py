"""``SweepThread``: plans and runs one sweep off the GUI thread.

The runs themselves execute in worker processes (``batch.LocalPool``); this thread only opens
the files (already cached, so that is a memory map), hands out jobs and collects rows, which it
passes to the GUI as queued signals. ``cancel`` is safe from any thread: the runs in flight stop
within milliseconds and the rows finished so far stay.
"""

from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QThread, Signal

from replayterm.batch import LocalPool, RunConfig, SweepResult, plan_sweep, run_sweep
from replayterm.core.data import Cancelled, DataError
from replayterm.core.session import SessionSettings
from replayterm.core.strategy import StrategyLoadError


@dataclass(frozen=True)
class SweepRequest:
    files: list[str]
    strategy: str
    grid: list[tuple[str, list[str]]]
    fixed: dict[str, str]
    out_dir: Path
    per_day: bool = False
    workers: int | None = None
    metric: str = "net_pnl"
    settings: SessionSettings = field(default_factory=SessionSettings)


class SweepThread(QThread):
    planned = Signal(object)  # SweepPlan
    row_done = Signal(dict, int, int)  # row, finished, total
    finished_sweep = Signal(object)  # SweepResult
    failed = Signal(str)
    message = Signal(str)

    def __init__(self, request: SweepRequest, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("sweep")
        self.request = request
        self._stop = threading.Event()

    def cancel(self) -> None:
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._stop.is_set()

    def run(self) -> None:
        r = self.request
        try:
            self.message.emit("Opening the data…")
            plan = plan_sweep(
                r.files, r.strategy, r.grid, r.fixed, per_day=r.per_day, cancel=self._stop.is_set
            )
            self.planned.emit(plan)
            pool = LocalPool(r.workers)
            self.message.emit(f"{len(plan.jobs)} runs on {pool.describe()}")
            result: SweepResult = run_sweep(
                plan,
                RunConfig(r.strategy, r.settings),
                pool,
                r.out_dir,
                metric=r.metric,
                on_row=lambda row, done, total: self.row_done.emit(row, done, total),
                stop=self._stop.is_set,
            )
        except Cancelled:
            self.failed.emit("Sweep cancelled before any run")
            return
        except (StrategyLoadError, DataError, ValueError, TypeError, OSError) as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # the GUI must hear of anything unexpected, not lose it in a thread
            self.failed.emit(f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}")
            return
        self.finished_sweep.emit(result)
