"""The frame pipeline, Qt-free: what the replay worker publishes and how the GUI merges it.

- ``frame``: ``Frame`` (latest state + appended streams), ``BookStats``, ``SideBook``.
- ``batches``: the appended batch types (``TradeBatch``, ``TopSeries``, ``TickerSeries``); each
  concatenates itself (the ``Batch`` protocol).
- ``streams``: the ``Stream`` protocol and one class per appended stream of the shown instrument
  (what the builder collects since the previous frame); ``STREAMS`` lists them.
- ``strategies``: ``StrategyFrame`` / ``StrategyStreams``, each strategy's records since the last frame.
- ``builder``: ``FrameBuilder``, the cursor's state into a ``Frame``.
- ``coalescer``: ``FrameCoalescer``, the frames received between two renders merged into one.

How to add a stream: docs/architecture.md, "Frames".
"""

from replayterm.core.frames.batches import Batch, TickerSeries, TopSeries, TradeBatch
from replayterm.core.frames.frame import BookStats, Frame, SideBook

__all__ = ["Batch", "BookStats", "Frame", "SideBook", "TickerSeries", "TopSeries", "TradeBatch"]
