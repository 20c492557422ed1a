"""L2 order book engine, book metrics and checkpoints."""
