"""The strategy side of the desktop app: panel, parameter form, fills and signals tables, PnL
chart, chart markers, hot reload and the busy/stuck indicator. ``StrategyUI`` composes them."""
