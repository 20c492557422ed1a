"""Tunable knobs of the synthetic market, in human units, packed into one array for the kernel."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

import numpy as np

# Positions of the packed parameters inside the float64 array the kernel reads.
P_LEVELS = 0
P_RATE = 1
P_JUMP_RATE = 2
P_VOL_KAPPA = 3
P_VOL_ETA = 4
P_VOL_JUMP_RATE = 5
P_VOL_JUMP = 6
P_RATE_VOL_EXP = 7
P_TRADE_PROB = 8
P_TRADE_MED = 9
P_TRADE_SIGMA = 10
P_PRESSURE = 11
P_OPS_MEAN = 12
P_NEAR_MEAN = 13
P_NEAR_SHIFT = 14
P_OCC_NEAR = 15
P_OCC_FAR = 16
P_OCC_LEN = 17
P_SIZE_TOUCH = 18
P_SIZE_FAR = 19
P_SIZE_LEN = 20
P_SIZE_SIGMA = 21
P_WALL_PROB = 22
P_WALL_MULT = 23
P_DEEP_PROB = 24
P_MAINT_PROB = 25
P_LAT_MED = 26
P_LAT_SIGMA = 27
P_SPIKE_RATE = 28
P_SPIKE_MEAN = 29
P_SPIKE_TAU = 30
P_RECON_MIN = 31
P_RECON_MAX = 32
P_GAP_MIN = 33
P_GAP_MAX = 34
P_MAX_ROWS = 35
P_MAX_SWEEP = 36
P_START_TICKS = 37
P_JUMP_MEAN = 38
P_IMPROVE_PROB = 39
P_STALE_SWEEP = 40
N_PARAMS = 41


def decimal_scale(text: str, what: str) -> tuple[int, int]:
    """``"0.1"`` -> ``(1, 1)``: the value is ``mantissa / 10**exponent`` with integer parts.

    Prices and amounts are kept as integer multiples of the tick and lot; dividing the integer
    product by a power of ten gives the double nearest to the decimal value, which prints without
    float noise (40000.1, not 40000.100000000006).
    """
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{what} must be a decimal number, got {text!r}") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"{what} must be a positive decimal number, got {text!r}")
    _sign, digits, exponent = value.normalize().as_tuple()
    assert isinstance(exponent, int)
    mantissa = int("".join(map(str, digits)))
    if exponent >= 0:
        return mantissa * 10**exponent, 0
    return mantissa, -exponent


@dataclass(frozen=True)
class SyntheticParams:
    """The market model. Defaults give a liquid BTC-perpetual-like book at ~600 L2 rows/s."""

    start_price: float = 40_000.0
    tick_size: str = "0.1"
    lot_size: str = "0.001"
    levels_per_side: int = 1000
    # Exchange messages per second at the baseline volatility.
    message_rate: float = 120.0
    # The fair mid moves in jumps: this many per second at the baseline volatility, of
    # 1 + Exponential(jump_mean_ticks) ticks (both scale up with the volatility factor).
    jump_rate: float = 6.0
    jump_mean_ticks: float = 1.5
    # The volatility factor exp(x): x mean-reverts to 0 at this rate (1/s) with this diffusion,
    # and jumps up now and then, which starts a volatile spell (volatility clusters).
    vol_kappa: float = 1.0 / 90.0
    vol_eta: float = 0.07
    vol_jump_rate: float = 1.0 / 240.0
    vol_jump: float = 1.1
    # Message rate grows with volatility as exp(this * (log-vol - baseline log-vol)).
    rate_vol_exponent: float = 0.6
    trade_probability: float = 0.12
    # Chance that a taker also sweeps every quote left on the wrong side of the fair mid.
    stale_sweep_probability: float = 0.1
    trade_median: float = 0.012
    trade_sigma: float = 1.7
    # Steepness of the buy/sell imbalance towards the fair price (per tick of mispricing).
    pressure: float = 2.0
    ops_mean: float = 7.0
    # Per message and side: chance that a quote behind the fair touch steps up to it.
    improve_probability: float = 0.7
    near_mean_ticks: float = 9.0
    near_shift_ticks: int = 3
    occupancy_near: float = 0.9
    occupancy_far: float = 0.38
    occupancy_length: float = 40.0
    size_touch: float = 2.0
    size_far: float = 0.25
    size_length: float = 25.0
    size_sigma: float = 1.1
    wall_probability: float = 0.004
    wall_multiplier: float = 25.0
    deep_probability: float = 0.25
    maintenance_probability: float = 0.5
    latency_median_ms: float = 3.0
    latency_sigma: float = 0.35
    latency_spike_rate: float = 1.0 / 25.0
    latency_spike_mean_ms: float = 60.0
    latency_spike_decay_ms: float = 400.0
    reconnect_min_s: float = 120.0
    reconnect_max_s: float = 300.0
    reconnect_gap_min_s: float = 0.3
    reconnect_gap_max_s: float = 2.0
    max_rows_per_message: int = 20
    max_sweep_levels: int = 6

    def __post_init__(self) -> None:
        tick_m, _ = decimal_scale(self.tick_size, "tick_size")
        decimal_scale(self.lot_size, "lot_size")
        if not 10 <= self.levels_per_side <= 100_000:
            raise ValueError(f"levels_per_side must be within 10..100000, got {self.levels_per_side}")
        if not 8 <= self.max_rows_per_message <= 1000:
            raise ValueError("max_rows_per_message must be within 8..1000")
        # A message holds the swept levels plus up to five other events (see kernel.run_chunk).
        if not 1 <= self.max_sweep_levels <= self.max_rows_per_message - 5:
            raise ValueError("max_sweep_levels must be within 1..max_rows_per_message-5")
        if not 0 < self.occupancy_far <= self.occupancy_near <= 1:
            raise ValueError("need 0 < occupancy_far <= occupancy_near <= 1")
        if not 0 < self.reconnect_min_s <= self.reconnect_max_s:
            raise ValueError("need 0 < reconnect_min_s <= reconnect_max_s")
        if not 0 < self.reconnect_gap_min_s <= self.reconnect_gap_max_s:
            raise ValueError("need 0 < reconnect_gap_min_s <= reconnect_gap_max_s")
        for name in ("message_rate", "jump_rate", "trade_median", "size_touch", "size_far", "ops_mean"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        # The bid side reaches about levels/occupancy_far ticks below the start; keep prices positive.
        span = self.levels_per_side / self.occupancy_far
        if self.start_ticks() < 20 * span:
            raise ValueError(
                f"start_price {self.start_price} is too close to zero for {self.levels_per_side} "
                f"levels of tick {self.tick_size}; raise start_price or lower levels_per_side"
            )
        if self.start_ticks() * tick_m > 2**52:
            raise ValueError("start_price / tick_size is too large to print exactly")

    def start_ticks(self) -> float:
        tick_m, tick_e = decimal_scale(self.tick_size, "tick_size")
        return self.start_price * 10**tick_e / tick_m

    def lots_per_unit(self) -> float:
        lot_m, lot_e = decimal_scale(self.lot_size, "lot_size")
        return 10**lot_e / lot_m

    def to_array(self) -> np.ndarray:
        lots = self.lots_per_unit()
        p = np.zeros(N_PARAMS, dtype=np.float64)
        p[P_LEVELS] = self.levels_per_side
        p[P_RATE] = self.message_rate
        p[P_JUMP_RATE] = self.jump_rate
        p[P_JUMP_MEAN] = self.jump_mean_ticks
        p[P_IMPROVE_PROB] = self.improve_probability
        p[P_STALE_SWEEP] = self.stale_sweep_probability
        p[P_VOL_KAPPA] = self.vol_kappa
        p[P_VOL_ETA] = self.vol_eta
        p[P_VOL_JUMP_RATE] = self.vol_jump_rate
        p[P_VOL_JUMP] = self.vol_jump
        p[P_RATE_VOL_EXP] = self.rate_vol_exponent
        p[P_TRADE_PROB] = self.trade_probability
        p[P_TRADE_MED] = self.trade_median * lots
        p[P_TRADE_SIGMA] = self.trade_sigma
        p[P_PRESSURE] = self.pressure
        p[P_OPS_MEAN] = self.ops_mean
        p[P_NEAR_MEAN] = self.near_mean_ticks
        p[P_NEAR_SHIFT] = self.near_shift_ticks
        p[P_OCC_NEAR] = self.occupancy_near
        p[P_OCC_FAR] = self.occupancy_far
        p[P_OCC_LEN] = self.occupancy_length
        p[P_SIZE_TOUCH] = self.size_touch * lots
        p[P_SIZE_FAR] = self.size_far * lots
        p[P_SIZE_LEN] = self.size_length
        p[P_SIZE_SIGMA] = self.size_sigma
        p[P_WALL_PROB] = self.wall_probability
        p[P_WALL_MULT] = self.wall_multiplier
        p[P_DEEP_PROB] = self.deep_probability
        p[P_MAINT_PROB] = self.maintenance_probability
        p[P_LAT_MED] = self.latency_median_ms * 1e3
        p[P_LAT_SIGMA] = self.latency_sigma
        p[P_SPIKE_RATE] = self.latency_spike_rate
        p[P_SPIKE_MEAN] = self.latency_spike_mean_ms * 1e3
        p[P_SPIKE_TAU] = self.latency_spike_decay_ms * 1e3
        p[P_RECON_MIN] = self.reconnect_min_s * 1e6
        p[P_RECON_MAX] = self.reconnect_max_s * 1e6
        p[P_GAP_MIN] = self.reconnect_gap_min_s * 1e6
        p[P_GAP_MAX] = self.reconnect_gap_max_s * 1e6
        p[P_MAX_ROWS] = self.max_rows_per_message
        p[P_MAX_SWEEP] = self.max_sweep_levels
        p[P_START_TICKS] = self.start_ticks()
        return p

    def as_dict(self) -> dict[str, object]:
        return asdict(self)
