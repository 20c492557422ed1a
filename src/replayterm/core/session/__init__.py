"""``ReplaySession``: data + books + cursor + strategies + simulated execution + metrics."""

from replayterm.core.session.session import ReplaySession
from replayterm.core.session.settings import QUEUE_MODELS, SessionSettings
from replayterm.core.session.views import StrategyHandle, StrategyInfo

__all__ = ["QUEUE_MODELS", "ReplaySession", "SessionSettings", "StrategyHandle", "StrategyInfo"]
