"""Queue-position models: how much of a level's shrinkage happened ahead of our resting order.

An L2 feed shows only the total size at a price. A resting order starts behind everything
visible at its price when it arrives (``ahead = size``). Trades at that price always eat the
queue from the front, so they reduce ``ahead`` before they can fill us; the exchange handles
that. What the models below decide is the other case: the level shrank without a trade
(cancellations), and only the feed's total says by how much.

A model is a function ``on_depth(ahead, prev_size, new_size, traded) -> new ahead``:

- ``ahead``: estimated size ahead of us now (trades since the last look already taken off);
- ``prev_size``: the level's size at our last look; ``new_size``: its size now;
- ``traded``: trade volume printed at this price since our last look. It is part of
  ``prev_size - new_size`` and must not be counted twice as cancellations.

The result is always within ``[0, new_size]``: nothing can be ahead of us that is not in the book.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol


class QueueModel(Protocol):
    def on_depth(self, ahead: float, prev_size: float, new_size: float, traded: float) -> float: ...


@dataclass(frozen=True, slots=True)
class RiskAverseQueue:
    """Cancellations are assumed to come from behind us, so only trades move us forward, unless
    the level shrinks below our position (then the level size bounds what can be ahead)."""

    def on_depth(self, ahead: float, prev_size: float, new_size: float, traded: float) -> float:
        return max(min(ahead, new_size), 0.0)


class ShareFunction(Protocol):
    def __call__(self, front: float, back: float) -> float:
        """Share in [0, 1] of a cancellation that happened ahead of us, given the size in front
        of and behind our order."""
        ...


@dataclass(frozen=True, slots=True)
class PowerShare:
    """share_ahead = front^n / (front^n + back^n).

    ``n = 1`` splits cancellations in proportion to the sizes on each side. ``n > 1`` pushes the
    split towards the bigger side: near the front of the queue cancellations are mostly credited
    behind us (slow progress), near the back mostly ahead. ``n < 1`` flattens it towards 50/50.
    Only the ratio front/back matters, so the quantity unit does not.
    """

    n: float = 2.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.n) and self.n > 0):
            raise ValueError(f"power must be a positive finite number, got {self.n!r}")

    def __call__(self, front: float, back: float) -> float:
        if front <= 0.0:
            return 0.0
        if back <= 0.0:
            return 1.0
        # Written as 1 / (1 + (back/front)^n) so that large sizes cannot overflow.
        return 1.0 / (1.0 + (back / front) ** self.n)


@dataclass(frozen=True, slots=True)
class LogShare:
    """share_ahead = log(1 + front/scale) / (log(1 + front/scale) + log(1 + back/scale)).

    Concave in the sizes: a large block on one side counts for less than its size, so the split
    stays closer to even than proportional. Unlike ``PowerShare`` it depends on the quantity unit;
    ``scale`` is the size that counts as "one order" (e.g. the typical order size of the market).
    """

    scale: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise ValueError(f"scale must be a positive finite number, got {self.scale!r}")

    def __call__(self, front: float, back: float) -> float:
        f = math.log1p(max(front, 0.0) / self.scale)
        b = math.log1p(max(back, 0.0) / self.scale)
        if f + b <= 0.0:
            return 0.0 if front <= 0.0 else 1.0
        return f / (f + b)


@dataclass(frozen=True, slots=True)
class ProbQueue:
    """Cancellations are split between ahead of us and behind us by ``share(front, back)``.

    With ``c`` the size cancelled since our last look (shrinkage minus trade volume), ``front =
    ahead`` and ``back`` the rest of the level at that moment, ``share(front, back) * c`` is taken
    off ``ahead``. The part credited behind us cannot exceed ``back``; any excess must have come
    from ahead and is taken off too. A growing level leaves ``ahead`` alone (new orders join the
    back of the queue).
    """

    share: ShareFunction = PowerShare(2.0)

    def on_depth(self, ahead: float, prev_size: float, new_size: float, traded: float) -> float:
        cancelled = (prev_size - new_size) - max(traded, 0.0)
        if cancelled <= 0.0:
            return max(min(ahead, new_size), 0.0)
        front = max(ahead, 0.0)
        back = max(prev_size - max(traded, 0.0) - front, 0.0)
        s = min(max(self.share(front, back), 0.0), 1.0)
        estimate = front - s * cancelled
        overflow = (1.0 - s) * cancelled - back
        if overflow > 0.0:
            estimate -= overflow
        return max(min(estimate, new_size), 0.0)


def queue_name(model: QueueModel) -> str:
    """A short name of a model for reports ("risk-averse", "prob power 2", "prob log 1")."""
    if isinstance(model, RiskAverseQueue):
        return "risk-averse"
    if isinstance(model, ProbQueue):
        share = model.share
        if isinstance(share, PowerShare):
            return f"prob power {share.n:g}"
        if isinstance(share, LogShare):
            return f"prob log {share.scale:g}"
        return "prob"
    return type(model).__name__
