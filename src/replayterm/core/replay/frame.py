"""Moved to ``replayterm.core.frames`` (kept for code written against the old path this wave)."""

from replayterm.core.frames import BookStats, Frame, SideBook, TickerSeries, TopSeries, TradeBatch

__all__ = ["BookStats", "Frame", "SideBook", "TickerSeries", "TopSeries", "TradeBatch"]
