"""The replay worker: the one object that owns the replay session, in its own ``QThread``.

- ``replay_worker``: ``ReplayWorker``, its signals and slots (the commands).
- ``requests``: what the GUI asked for, counted, so newer seeks and opens supersede running
  ones and a Cancel is never lost.
- ``playback``: pacing (the ``PlaybackClock``, Max-speed batches, lag and rate).
- ``indexing``: the background indexing of a big open, and the seek that waits for it.
- ``opening``: files to instruments, and what the GUI learns about them.
"""

from replayterm.qt.worker.opening import OpenedInfo
from replayterm.qt.worker.replay_worker import ReplayWorker

__all__ = ["OpenedInfo", "ReplayWorker"]
