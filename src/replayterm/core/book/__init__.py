"""L2 order book engine, book metrics and checkpoints.

``BookEvents.from_arrays`` prepares one symbol's rows, ``BookReplayer`` replays them (step,
batch, exact seek) into a ``Book`` (the ``BookView`` strategies and views read), and
``build_checkpoints`` makes the saved states that keep seeks fast.
"""

from replayterm.core.book.book import Book, TopStats
from replayterm.core.book.checkpoints import Cancelled, Checkpoints, build_checkpoints
from replayterm.core.book.events import BookEvents
from replayterm.core.book.replayer import BookReplayer
from replayterm.core.book.view import BookView

__all__ = [
    "Book",
    "BookEvents",
    "BookReplayer",
    "BookView",
    "Cancelled",
    "Checkpoints",
    "TopStats",
    "build_checkpoints",
]
