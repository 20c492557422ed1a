"""ReplayTerm: a market-replay terminal that rebuilds limit order books event by event."""

__version__ = "0.1.0"
