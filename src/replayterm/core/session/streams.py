"""Moved to ``replayterm.core.frames.strategies`` (kept for code written against the old path this wave)."""

from replayterm.core.frames.strategies import StrategyFrame, StrategyStreams

__all__ = ["StrategyFrame", "StrategyStreams"]
