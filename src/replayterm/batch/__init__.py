"""Many runs of one strategy: parameter grids, per-day runs and walk-forward splits, on a pool of
local worker processes or on Ray. Imports the core, never Qt.

Typical use::

    plan = plan_sweep(files, "market_maker", [("size", ["0.01", "0.02"])], per_day=True)
    result = run_sweep(plan, RunConfig("market_maker", settings), LocalPool(2), out_dir)
"""

from replayterm.batch.days import DayWindow, Split, day_windows, walk_forward_splits
from replayterm.batch.grid import GridAxis, expand_grid, parse_grid_option, typed_axes
from replayterm.batch.jobs import CANCELLED, DIED, ERROR, FAILED, OK, RunConfig, RunJob, RunOutcome, execute
from replayterm.batch.pool import LocalPool, WorkerStartError, default_workers
from replayterm.batch.results import SweepTable, metric_names
from replayterm.batch.sweep import Backend, SweepPlan, SweepResult, plan_sweep, run_sweep

__all__ = [
    "CANCELLED",
    "DIED",
    "ERROR",
    "FAILED",
    "OK",
    "Backend",
    "DayWindow",
    "GridAxis",
    "LocalPool",
    "RunConfig",
    "RunJob",
    "RunOutcome",
    "Split",
    "SweepPlan",
    "SweepResult",
    "SweepTable",
    "WorkerStartError",
    "day_windows",
    "default_workers",
    "execute",
    "expand_grid",
    "metric_names",
    "parse_grid_option",
    "plan_sweep",
    "run_sweep",
    "typed_axes",
    "walk_forward_splits",
]
