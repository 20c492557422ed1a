"""Execution options of the command line: latency, fees, fill rules, queue, cash, metrics interval.

``add_execution_arguments(parser)`` adds them, ``execution_settings_from_args(args)`` reads them
back as ``SessionSettings``, and ``command_args(settings)`` turns settings into the options that
give them (what the app's "Copy as command" writes), so that the three always agree.
"""

from __future__ import annotations

import argparse
import math
import re
from typing import Any

from replayterm.core.execution import ConstantLatency, FeeSchedule, FillRules
from replayterm.core.execution.latency import DEFAULT_FEED_MAX_EXCESS_US, DEFAULT_FEED_WINDOW_US
from replayterm.core.execution.rules import OFF_TICK_RULES, THROUGH_RULES
from replayterm.core.session.settings import (
    DEFAULT_METRICS_INTERVAL_US,
    DEFAULT_SAMPLE_INTERVAL_US,
    LATENCY_MODELS,
    QUEUE_MODELS,
    SessionSettings,
)

_UNITS_US = {"us": 1, "ms": 1_000, "s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}


def parse_interval(text: str) -> int:
    """``"1m"``, ``"30s"``, ``"250ms"``, ``"1h"``, ``"1d"`` or a bare number of seconds -> µs (> 0)."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(us|ms|s|m|h|d)?\s*", text)
    if not match:
        raise ValueError(f"expected an interval such as 1m, 30s or 250ms, got {text!r}")
    us = round(float(match.group(1)) * _UNITS_US[match.group(2) or "s"])
    if us <= 0:
        raise ValueError(f"the interval must be > 0, got {text!r}")
    return us


def format_interval(us: int) -> str:
    """The shortest exact spelling of ``us`` in the units ``parse_interval`` reads."""
    for unit in ("d", "h", "m", "s", "ms"):
        if us % _UNITS_US[unit] == 0:
            return f"{us // _UNITS_US[unit]}{unit}"
    return f"{us}us"


def add_execution_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "execution", "how the simulated exchange fills orders (defaults are documented in the README)"
    )
    group.add_argument(
        "--latency-model",
        choices=LATENCY_MODELS,
        default="constant",
        help="constant: --latency-us as given; feed: --latency-us plus the data's feed delay above "
        "its running minimum at each moment (a clock offset cancels). Default constant",
    )
    group.add_argument(
        "--latency-us",
        metavar="ENTRY[,RESPONSE]",
        help="order latency on the replay axis in µs: an order meets the book ENTRY µs after it is "
        "sent, answers reach the strategy RESPONSE µs (default 0) after the exchange acts. Default "
        "40000,0 = 20 ms each way (the feed already carries one leg)",
    )
    group.add_argument(
        "--feed-scale", type=float, default=1.0, metavar="X", help="feed model: multiply the feed excess by X"
    )
    group.add_argument(
        "--feed-window-s",
        type=float,
        default=DEFAULT_FEED_WINDOW_US / 1e6,
        metavar="S",
        help="feed model: the running minimum looks back S seconds (default 60)",
    )
    group.add_argument(
        "--feed-max-ms",
        type=float,
        default=DEFAULT_FEED_MAX_EXCESS_US / 1e3,
        metavar="MS",
        help="feed model: cap on the added latency; capped moments are reported (default 1000)",
    )
    group.add_argument(
        "--fees-bps",
        metavar="MAKER[,TAKER]",
        help="fees in bps of notional for every instrument (one value: both); negative = rebate, "
        "written with '=' (--fees-bps=-1,5). Default (or 'default'): the exchange's base tier "
        "from the fee table",
    )
    group.add_argument(
        "--slippage-bps", type=float, metavar="BPS", help="extra price slippage on taker fills"
    )
    group.add_argument("--queue", choices=QUEUE_MODELS, default="risk-averse", help="queue-position model")
    group.add_argument(
        "--off-tick",
        choices=OFF_TICK_RULES,
        default="reject",
        help="a limit price off the tick grid: reject it (default) or round it to the passive side",
    )
    group.add_argument(
        "--through-fills",
        choices=THROUGH_RULES,
        default="conservative",
        help="the book moving through a resting order fills only the size shown at crossing prices "
        "(conservative, default) or the whole order (full)",
    )
    group.add_argument(
        "--own-liquidity",
        choices=("on", "off"),
        default="on",
        help="liquidity the account took stays consumed until the book changes that level (default on)",
    )
    group.add_argument(
        "--cash", type=float, default=0.0, metavar="AMOUNT", help="initial cash of each account"
    )
    group.add_argument(
        "--metrics-interval",
        default=format_interval(DEFAULT_METRICS_INTERVAL_US),
        metavar="INTERVAL",
        help="Sharpe/Sortino use equity returns over this interval, annualised by the number of "
        "such intervals in a year; fewer than 30 give none (default 1m)",
    )
    group.add_argument(
        "--sample-ms",
        type=float,
        default=DEFAULT_SAMPLE_INTERVAL_US / 1000,
        metavar="MS",
        help="equity sampling interval (default 100)",
    )


def _pair(text: str, what: str, second_default: str | None) -> tuple[float, float]:
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) == 1 and second_default is not None:
        parts.append(parts[0] if second_default == "same" else second_default)
    if len(parts) != 2:
        raise ValueError(f"{what} expects one or two numbers separated by a comma, got {text!r}")
    try:
        a, b = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"{what} expects numbers, got {text!r}") from None
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"{what} expects finite numbers, got {text!r}")
    return a, b


def execution_settings_from_args(args: argparse.Namespace, **extra: Any) -> SessionSettings:
    """Settings from the options ``add_execution_arguments`` added; ValueError names the wrong one.
    ``extra`` sets further ``SessionSettings`` fields (focus, callback_budget_s)."""
    latency = None
    if args.latency_us is not None:
        entry, response = _pair(args.latency_us, "--latency-us", "0")
        if entry < 0 or response < 0 or entry != int(entry) or response != int(response):
            raise ValueError(f"--latency-us expects whole µs >= 0, got {args.latency_us!r}")
        latency = ConstantLatency(int(entry), int(response))
    fees = None
    if args.fees_bps is not None and str(args.fees_bps).strip().lower() != "default":
        maker, taker = _pair(args.fees_bps, "--fees-bps", "same")
        fees = FeeSchedule.from_bps(maker, taker)
    if args.sample_ms <= 0:
        raise ValueError(f"--sample-ms must be > 0, got {args.sample_ms}")
    if not args.feed_window_s > 0:
        raise ValueError(f"--feed-window-s must be > 0, got {args.feed_window_s}")
    if not args.feed_max_ms >= 0:
        raise ValueError(f"--feed-max-ms must be >= 0, got {args.feed_max_ms}")
    try:
        interval = parse_interval(args.metrics_interval)
    except ValueError as exc:
        raise ValueError(f"--metrics-interval: {exc}") from None
    return SessionSettings(
        latency=latency,
        fees=fees,
        slippage_bps=args.slippage_bps,
        queue=args.queue,
        initial_cash=args.cash,
        sample_interval_us=max(1, round(args.sample_ms * 1000)),
        latency_model=args.latency_model,
        feed_scale=args.feed_scale,
        feed_window_us=max(1, round(args.feed_window_s * 1e6)),
        feed_max_us=round(args.feed_max_ms * 1e3),
        rules=FillRules(
            off_tick=args.off_tick, through=args.through_fills, own_liquidity=args.own_liquidity == "on"
        ),
        metrics_interval_us=interval,
        **extra,
    )


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def command_args(settings: SessionSettings) -> list[str]:
    """The options that give ``settings`` (defaults are left out): what ``execution_settings_from_args``
    reads back into equal settings."""
    default = SessionSettings()
    out: list[str] = []
    if settings.latency_model != default.latency_model:
        out += ["--latency-model", settings.latency_model]
    if settings.latency is not None:
        if not isinstance(settings.latency, ConstantLatency):
            raise ValueError("only a constant latency can be written as a command-line option")
        out += ["--latency-us", f"{settings.latency.entry_us},{settings.latency.response_us}"]
    if settings.latency_model == "feed":
        if settings.feed_scale != default.feed_scale:
            out += ["--feed-scale", _num(settings.feed_scale)]
        if settings.feed_window_us != default.feed_window_us:
            out += ["--feed-window-s", _num(settings.feed_window_us / 1e6)]
        if settings.feed_max_us != default.feed_max_us:
            out += ["--feed-max-ms", _num(settings.feed_max_us / 1e3)]
    if settings.fees is not None:
        # One token with "=": a value starting with "-" (a rebate) would read as an option.
        # Rates are kept as fractions: bps rounded to 10 decimals give back the typed figure.
        maker, taker = round(settings.fees.maker * 1e4, 10), round(settings.fees.taker * 1e4, 10)
        out += [f"--fees-bps={_num(maker)},{_num(taker)}"]
    if settings.slippage_bps is not None:
        out += ["--slippage-bps", _num(settings.slippage_bps)]
    if settings.queue != default.queue:
        if not isinstance(settings.queue, str):
            raise ValueError("only a named queue model can be written as a command-line option")
        out += ["--queue", settings.queue]
    if settings.rules.off_tick != default.rules.off_tick:
        out += ["--off-tick", settings.rules.off_tick]
    if settings.rules.through != default.rules.through:
        out += ["--through-fills", settings.rules.through]
    if settings.rules.own_liquidity != default.rules.own_liquidity:
        out += ["--own-liquidity", "on" if settings.rules.own_liquidity else "off"]
    if settings.initial_cash != default.initial_cash:
        out += ["--cash", _num(settings.initial_cash)]
    if settings.metrics_interval_us != default.metrics_interval_us:
        out += ["--metrics-interval", format_interval(settings.metrics_interval_us)]
    if settings.sample_interval_us != default.sample_interval_us:
        out += ["--sample-ms", _num(settings.sample_interval_us / 1000)]
    return out


def settings_with(base: SessionSettings, options: list[str]) -> SessionSettings:
    """``base`` changed by execution ``options`` (e.g. ``["--fees-bps", "1,3"]``): how a strategy's
    own settings are given on the command line (``--exec fees-bps=1,3``)."""
    parser = argparse.ArgumentParser(prog="--exec", add_help=False, exit_on_error=False)
    add_execution_arguments(parser)
    try:
        ns = parser.parse_args(command_args(base) + options)
    except (argparse.ArgumentError, SystemExit) as exc:
        raise ValueError(f"bad execution option in {' '.join(options)}: {exc}") from None
    return execution_settings_from_args(ns, focus=base.focus, callback_budget_s=base.callback_budget_s)


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def backtest_argv(
    files: list[str],
    strategies: list[tuple[str, dict[str, Any], SessionSettings | None]],
    settings: SessionSettings,
    out: str = "results",
) -> list[str]:
    """The ``replayterm backtest …`` command (as argv, from ``replayterm``) that runs ``strategies``
    (spec, parameters, settings of its own or None) over ``files`` with ``settings``: the app's
    "Copy as command". A strategy's own settings become ``--exec`` options (only those that
    differ from the session's)."""
    argv = ["replayterm", "backtest", *files]
    session_args = command_args(settings)
    for spec, params, own in strategies:
        argv += ["--strategy", spec]
        for key, value in params.items():
            argv += ["--param", f"{key}={_param_text(value)}"]
        if own is not None:
            for name, value in _option_pairs(command_args(own), session_args, own):
                argv += ["--exec", f"{name}={value}"]
    argv += session_args
    argv += ["--out", out]
    return argv


# Options that belong to the whole run, never to one strategy.
SESSION_ONLY = ("metrics-interval", "sample-ms")


def _option_pairs(own: list[str], session: list[str], settings: SessionSettings) -> list[tuple[str, str]]:
    """``own`` options as (name, value) pairs, plus the session options ``settings`` resets to
    their defaults (an option the strategy leaves at its default while the session sets it)."""
    pairs: dict[str, str] = {}
    for i, token in enumerate(own):
        if token.startswith("--"):
            name, sep, value = token[2:].partition("=")
            if name not in SESSION_ONLY:
                pairs[name] = value if sep else own[i + 1]
    defaults = {
        "latency-model": "constant",
        "queue": "risk-averse",
        "off-tick": "reject",
        "through-fills": "conservative",
        "own-liquidity": "on",
        "cash": "0",
        "fees-bps": "default",
        "slippage-bps": "0",
        "feed-scale": "1",
        "feed-window-s": _num(DEFAULT_FEED_WINDOW_US / 1e6),
        "feed-max-ms": _num(DEFAULT_FEED_MAX_EXCESS_US / 1e3),
        "latency-us": f"{settings.base_latency().entry_us},{settings.base_latency().response_us}",
    }
    for token in session:
        if token.startswith("--"):
            name = token[2:].partition("=")[0]
            if name not in pairs and name in defaults:
                pairs[name] = defaults[name]
    return list(pairs.items())
