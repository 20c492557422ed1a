"""Default maker/taker fees per exchange: the base (non-VIP, no token discount) tier.

One row per Tardis exchange id, in basis points of notional (negative = rebate). ``source`` is
where the figure was read and ``note`` says how sure it is: exchanges change their schedules,
and several publish the full table only to signed-in users, so a figure confirmed only by a
secondary source says so. Override with ``--fees-bps MAKER,TAKER`` (or the app's Execution
settings) whenever you know your own rate. An exchange that is not listed gets no fees and a
warning.
"""

from __future__ import annotations

from dataclasses import dataclass

from replayterm.core.execution.fees import FeeSchedule

READ_ON = "2026-12-01"  # the date the sources below were read


@dataclass(frozen=True, slots=True)
class ExchangeFees:
    maker_bps: float
    taker_bps: float
    market: str
    source: str
    note: str = ""

    def schedule(self) -> FeeSchedule:
        return FeeSchedule.from_bps(self.maker_bps, self.taker_bps)


EXCHANGE_FEES: dict[str, ExchangeFees] = {
    "binance": ExchangeFees(
        10.0,
        10.0,
        "spot, regular user",
        "https://www.binance.com/en/fee/schedule",
        "Binance's own page was not readable here; 0.1 %/0.1 % is confirmed by secondary sources",
    ),
    "binance-futures": ExchangeFees(
        2.0,
        5.0,
        "USD-M futures, regular user",
        "https://www.binance.com/en/support/faq/360033544231",
        "Binance's FAQ omits the table in the copy read; 0.02 %/0.05 % from secondary sources",
    ),
    "binance-delivery": ExchangeFees(
        2.0,
        5.0,
        "COIN-M futures, regular user",
        "https://www.binance.com/en/support/faq/360033544231",
        "not confirmed: Binance's FAQ example says 0.015 %/0.04 %, a secondary source 0.01 %/0.05 %",
    ),
    "bybit": ExchangeFees(
        2.0,
        5.5,
        "perpetual and futures, non-VIP",
        "https://www.bybit.com/en/help-center/article/Trading-Fee-Structure",
        "confirmed by secondary sources quoting Bybit's examples (0.02 %/0.055 %)",
    ),
    "okex": ExchangeFees(8.0, 10.0, "spot, regular user Lv1", "https://www.okx.com/fees"),
    "okex-swap": ExchangeFees(
        2.0,
        5.0,
        "perpetual swaps, regular user Lv1",
        "https://www.okx.com/fees",
        "the swap table was not in the copy read; 0.02 %/0.05 % from secondary sources",
    ),
    "okex-futures": ExchangeFees(
        2.0,
        5.0,
        "expiry futures, regular user Lv1",
        "https://www.okx.com/fees",
        "assumed equal to swaps (OKX lists futures and perpetuals in one table); not confirmed",
    ),
    "deribit": ExchangeFees(
        0.0,
        5.0,
        "BTC/ETH futures and perpetuals",
        "https://support.deribit.com/hc/en-us/articles/25944746248989-Fees",
        "options and weekly futures differ (weeklies: -0.01 % maker)",
    ),
    "bitmex": ExchangeFees(
        -1.0,
        5.0,
        "derivatives, base tier",
        "https://blog.bitmex.com/site_announcement/now-live-revamp-of-bitmex-fee-structures-for-increased-trader-rewards/",
        "taker 0.05 %, maker rebate 0.01 % per BitMEX's announcement; older data had 0.075 %/-0.025 %",
    ),
    "coinbase": ExchangeFees(
        40.0,
        60.0,
        "Coinbase Exchange / Advanced, $0-10K 30-day volume",
        "https://help.coinbase.com/en/coinbase/trading-and-funding/advanced-trade/advanced-trade-fees",
        "Coinbase shows the table only when signed in; 0.40 %/0.60 % from a secondary copy of it",
    ),
    "kraken": ExchangeFees(
        16.0,
        26.0,
        "spot, < $50K 30-day volume",
        "https://www.kraken.com/features/fee-schedule",
        "not confirmed from Kraken itself: secondary sources give 0.16 %/0.26 %, some 0.25 %/0.40 %",
    ),
}


def exchange_fees(exchange: str) -> ExchangeFees | None:
    """The table row of a Tardis exchange id (case-insensitive), None when it is not listed."""
    return EXCHANGE_FEES.get(exchange.strip().lower())


def default_fees(exchange: str) -> tuple[FeeSchedule, str | None]:
    """The exchange's default schedule, and a warning when there is none (then the fees are 0)."""
    row = exchange_fees(exchange)
    if row is None:
        return FeeSchedule(), (
            f"no default fees for exchange {exchange!r}: fees are 0; set them with --fees-bps MAKER,TAKER "
            "(or in Execution settings)"
        )
    return row.schedule(), None
