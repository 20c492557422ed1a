"""Cross-check ReplayTerm's simulated exchange against hftbacktest (not part of the test suite).

Runs one simple strategy with equivalent settings in both and prints the fill lists and PnL side
by side:

- strategy: every whole second, cancel the open order; when flat post a 0.001 BTC post-only buy
  at the best bid, when long post a 0.001 BTC post-only sell at the best ask;
- constant latency: entry 40 ms, response 0 (ReplayTerm's default; the same numbers in ns for
  hftbacktest), on one time axis: the data's exchange timestamps are replaced by its receive
  timestamps before conversion, so both simulators match orders against the book as received;
- risk-averse queue (hftbacktest ``risk_adverse_queue_model``), no partial fills
  (``no_partial_fill_exchange``; ReplayTerm's orders are one lot, so cannot fill partially);
- fees: Binance USD-M base tier, maker 2 bps, taker 5 bps, on traded value.

Needs hftbacktest, which is not a ReplayTerm dependency; use a scratch environment:

    python3 -m venv /tmp/hbt && /tmp/hbt/bin/pip install hftbacktest -e .
    /tmp/hbt/bin/python scripts/cross_check_hftbacktest.py [--data ../shared/data/binance-futures]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv

ENTRY_US, RESPONSE_US = 40_000, 0
STEP_US = 1_000_000
SIZE = 0.001
MAKER, TAKER = 0.0002, 0.0005
TICK, LOT = 0.1, 0.001


@dataclass
class Fill:
    ts_us: int  # when the exchange filled the order (replay axis)
    side: int
    price: float
    amount: float
    maker: bool


def same_axis_copy(src: Path, dst: Path) -> Path:
    """``src`` with its exchange timestamps replaced by its receive timestamps."""
    table = pacsv.read_csv(src)
    table = table.set_column(table.schema.get_field_index("timestamp"), "timestamp", table["local_timestamp"])
    pacsv.write_csv(table, dst, pacsv.WriteOptions(quoting_style="none"))
    return dst


def first_boundary(data_dir: Path, files: list[Path]) -> int:
    first = min(int(pacsv.read_csv(f)["local_timestamp"][0].as_py()) for f in files)
    return (first // STEP_US + 1) * STEP_US


# -- ReplayTerm --------------------------------------------------------------------------------
def run_replayterm(files: list[Path], start_us: int) -> tuple[list[Fill], dict[str, float]]:
    from replayterm.core.execution import ConstantLatency, Order, TimeInForce
    from replayterm.core.session import ReplaySession, SessionSettings
    from replayterm.core.strategy import Strategy

    class PostAtTouch(Strategy):
        name = "post_at_touch"

        def on_start(self, ctx):  # type: ignore[no-untyped-def]
            ctx.set_timer(max(start_us - ctx.now, 0))

        def on_timer(self, ctx):  # type: ignore[no-untyped-def]
            ctx.set_timer(STEP_US)
            ctx.cancel_all()
            book = ctx.book
            bid, ask = book.best_bid(), book.best_ask()
            if bid is None or ask is None:
                return
            if ctx.position < SIZE / 2:
                ctx.submit(Order.limit(1, SIZE, bid[0], TimeInForce.POST_ONLY))
            else:
                ctx.submit(Order.limit(-1, SIZE, ask[0], TimeInForce.POST_ONLY))

    settings = SessionSettings(latency=ConstantLatency(ENTRY_US, RESPONSE_US), queue="risk-averse")
    session = ReplaySession.open([str(f) for f in files], settings)
    handle = session.add_strategy(PostAtTouch)
    session.run_to_end()
    f = session.fills(handle)
    fills = [
        Fill(int(t), int(s), float(p), float(a), bool(m))
        for t, s, p, a, m in zip(f["exch_ts"], f["side"], f["price"], f["amount"], f["maker"], strict=True)
    ]
    info = session.info(handle)
    out = {
        "position": info.position,
        "fees": info.pnl.fees,
        "net_pnl": info.pnl.net,
        "mark": info.pnl.mark,
    }
    session.close()
    return fills, out


# -- hftbacktest -------------------------------------------------------------------------------
def run_hftbacktest(files: list[Path], start_us: int) -> tuple[list[Fill], dict[str, float]]:
    from hftbacktest import FILLED, GTX, LIMIT, BacktestAsset, HashMapMarketDepthBacktest  # type: ignore[attr-defined]
    from hftbacktest.data.utils import tardis
    from numba import njit

    trades = sorted(f for f in files if "_trades_" in f.name)
    books = sorted(f for f in files if "incremental_book_L2" in f.name)
    data = tardis.convert([str(f) for f in trades + books])  # trades before depth, as it asks
    asset = (
        BacktestAsset()
        .data([data])
        .linear_asset(1.0)
        .constant_order_latency(ENTRY_US * 1000, RESPONSE_US * 1000)
        .risk_adverse_queue_model()
        .no_partial_fill_exchange()
        .trading_value_fee_model(MAKER, TAKER)
        .tick_size(TICK)
        .lot_size(LOT)
    )
    hbt = HashMapMarketDepthBacktest([asset])

    @njit
    def collect_fills(hbt, out, out_ts, n):  # type: ignore[no-untyped-def]
        """Orders filled since the last call (then forgotten): one row each."""
        values = hbt.orders(0).values()
        while values.has_next():
            order = values.get()
            if order.status == FILLED:
                out_ts[n] = order.exch_timestamp  # ns: int64 (a float64 would round it)
                out[n, 1] = order.side
                out[n, 2] = order.exec_price
                out[n, 3] = order.exec_qty
                out[n, 4] = 1.0 if order.arr[0].maker else 0.0
                n += 1
        hbt.clear_inactive_orders(0)
        return n

    @njit
    def strategy(hbt, first_ns, start_ns, step_ns, out, out_ts):  # type: ignore[no-untyped-def]
        n = 0
        next_id = 1
        hbt.elapse(start_ns - first_ns)  # the clock starts at the first event
        while True:
            n = collect_fills(hbt, out, out_ts, n)
            values = hbt.orders(0).values()
            while values.has_next():
                order = values.get()
                if order.cancellable:
                    hbt.cancel(0, order.order_id, False)
            depth = hbt.depth(0)
            bid, ask = depth.best_bid, depth.best_ask
            if math.isfinite(bid) and math.isfinite(ask) and bid > 0 and ask > 0:
                if hbt.position(0) < 0.0005:
                    hbt.submit_buy_order(0, next_id, bid, 0.001, GTX, LIMIT, False)
                else:
                    hbt.submit_sell_order(0, next_id, ask, 0.001, GTX, LIMIT, False)
                next_id += 1
            if hbt.elapse(step_ns) != 0:
                break
        return collect_fills(hbt, out, out_ts, n)

    out = np.zeros((100_000, 5))
    out_ts = np.zeros(100_000, dtype=np.int64)
    first_ns = int(data["local_ts"][data["local_ts"] > 0].min())
    n = strategy(hbt, first_ns, start_us * 1000, STEP_US * 1000, out, out_ts)
    state = hbt.state_values(0)
    depth = hbt.depth(0)
    mid = (depth.best_bid + depth.best_ask) / 2
    position, balance, fee = state.position, state.balance, state.fee
    hbt.close()
    fills = [
        Fill(int(t) // 1000, int(r[1]), float(r[2]), float(r[3]), bool(r[4]))
        for t, r in zip(out_ts[:n], out[:n], strict=True)
    ]
    return fills, {"position": position, "fees": fee, "net_pnl": balance + position * mid - fee, "mark": mid}


# -- comparison --------------------------------------------------------------------------------
def main() -> int:
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "binance-futures"
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=default)
    ap.add_argument("--days", default="2024-07-18,2024-07-19")
    args = ap.parse_args()
    days = args.days.split(",")
    originals = [
        args.data / f"binance-futures_{kind}_{day}_BTCUSDT.csv.gz"
        for day in days
        for kind in ("trades", "incremental_book_L2")
    ]
    missing = [p for p in originals if not p.is_file()]
    if missing:
        print("missing data:", *missing, sep="\n  ", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        files = [same_axis_copy(p, Path(tmp) / p.name.replace(".csv.gz", ".csv")) for p in originals]
        start = first_boundary(args.data, files)
        ours, ours_pnl = run_replayterm(files, start)
        theirs, theirs_pnl = run_hftbacktest(files, start)

    print(f"{'ReplayTerm':<46} | {'hftbacktest':<46}")
    print(f"{'time (µs)':>17} {'side':>4} {'price':>9} {'qty':>6} {'m/t':>3}  | "
          f"{'time (µs)':>17} {'side':>4} {'price':>9} {'qty':>6} {'m/t':>3}  same")  # fmt: skip
    matched = 0
    for i in range(max(len(ours), len(theirs))):
        a = ours[i] if i < len(ours) else None
        b = theirs[i] if i < len(theirs) else None

        def cell(f: Fill | None) -> str:
            if f is None:
                return " " * 46
            return f"{f.ts_us:>17} {'buy' if f.side > 0 else 'sell':>4} {f.price:>9.1f} {f.amount:>6.3f} {'m' if f.maker else 't':>3} "

        same = (
            a is not None
            and b is not None
            and (a.ts_us, a.side, a.maker, a.amount) == (b.ts_us, b.side, b.maker, b.amount)
            and abs(a.price - b.price) < TICK / 2  # hftbacktest prices are ticks × tick size
        )
        matched += same
        print(f"{cell(a)} | {cell(b)} {'yes' if same else 'NO'}")
        if not same and a is not None and b is not None:
            print(f"    differs: ReplayTerm {a!r}\n             hftbacktest {b!r}")
    print()
    print(
        f"fills: ReplayTerm {len(ours)}, hftbacktest {len(theirs)}, identical (time, side, price, maker): {matched}"
    )
    for key in ("position", "fees", "net_pnl", "mark"):
        print(f"{key:>9}: ReplayTerm {ours_pnl[key]:+.6f}   hftbacktest {theirs_pnl[key]:+.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
