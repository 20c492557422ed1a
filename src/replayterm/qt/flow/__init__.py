"""Order-flow views: candles with volume, footprint, volume profile, CVD, VWAP (``core.flow``)."""
