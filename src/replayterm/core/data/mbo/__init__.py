"""Market-by-order (L3) files: Databento DBN and LOBSTER readers and their opening into sources."""

from replayterm.core.data.mbo.records import MboRecords

__all__ = ["MboRecords"]
