"""Built-in example strategies.

They are registered in the ``replayterm.strategies`` entry-point group like any installed
plugin; ``BUILTINS`` lets the loader find them by name in a source checkout too.
"""

BUILTINS: dict[str, str] = {
    "mean_reversion": "replayterm.strategies.mean_reversion:MeanReversion",
    "imbalance_momentum": "replayterm.strategies.imbalance_momentum:ImbalanceMomentum",
    "market_maker": "replayterm.strategies.market_maker:MarketMaker",
    "basis": "replayterm.strategies.basis:Basis",
    "manual": "replayterm.strategies.manual:ManualTrading",
}
