"""Synthetic market data: a simulated order book written as Tardis.dev CSV files.

``generate_files`` writes ``incremental_book_L2``, ``trades`` and ``book_ticker`` files of one
symbol that look and behave like a real capture (see ``kernel`` for the market model).
"""

from replayterm.core.data.synthetic.generate import GeneratedFiles, generate_files
from replayterm.core.data.synthetic.params import SyntheticParams

__all__ = ["GeneratedFiles", "SyntheticParams", "generate_files"]
