"""GUI-free engine: data readers, order book, replay cursor, strategies, simulated execution, metrics.

Nothing under this package may import Qt (an import-linter contract enforces it).
"""
