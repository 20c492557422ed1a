"""Moved to ``replayterm.core.frames.builder`` (kept for code written against the old path this wave)."""

from replayterm.core.frames.builder import FrameBuilder, levels_within

__all__ = ["FrameBuilder", "levels_within"]
