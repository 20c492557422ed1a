"""Fills as columns: the input of every metric that looks at trading."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class FillTable:
    """Fills in time order. ``ts`` int64 µs; ``side`` +1 buy / -1 sell; ``price``, ``amount`` (> 0)
    and ``fee`` (quote currency, negative = rebate) float64; ``maker`` bool."""

    ts: np.ndarray
    side: np.ndarray
    price: np.ndarray
    amount: np.ndarray
    fee: np.ndarray
    maker: np.ndarray

    def __post_init__(self) -> None:
        n = self.ts.shape[0]
        for name in ("ts", "side", "price", "amount", "fee", "maker"):
            col = getattr(self, name)
            if col.ndim != 1 or col.shape[0] != n:
                raise ValueError(f"fill column {name} has shape {col.shape}, expected ({n},)")
        if n > 1 and np.any(np.diff(self.ts) < 0):
            raise ValueError("fills must be in time order")
        if n and not np.all(np.isin(self.side, (-1, 1))):
            raise ValueError("fill sides must be +1 or -1")
        if n and not np.all(self.amount > 0):
            raise ValueError("fill amounts must be > 0")

    @classmethod
    def from_columns(
        cls,
        ts: np.ndarray | list[int],
        side: np.ndarray | list[int],
        price: np.ndarray | list[float],
        amount: np.ndarray | list[float],
        fee: np.ndarray | list[float] | None = None,
        maker: np.ndarray | list[bool] | None = None,
    ) -> FillTable:
        t = np.asarray(ts, dtype=np.int64)
        n = t.shape[0]
        return cls(
            ts=t,
            side=np.asarray(side, dtype=np.int8),
            price=np.asarray(price, dtype=np.float64),
            amount=np.asarray(amount, dtype=np.float64),
            fee=np.zeros(n) if fee is None else np.asarray(fee, dtype=np.float64),
            maker=np.zeros(n, dtype=bool) if maker is None else np.asarray(maker, dtype=bool),
        )

    @classmethod
    def empty(cls) -> FillTable:
        return cls.from_columns([], [], [], [])

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    @property
    def signed_amount(self) -> np.ndarray:
        return self.side.astype(np.float64) * self.amount

    @property
    def notional(self) -> np.ndarray:
        return self.price * self.amount
