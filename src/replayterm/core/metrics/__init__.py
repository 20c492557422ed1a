"""PnL, equity and risk/return statistics as pure functions."""
