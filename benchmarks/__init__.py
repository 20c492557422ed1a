"""Benchmarks: ``make bench`` (or ``python -m benchmarks [NAME…]``) prints JSON lines.

Each ``benchmarks/bench_<name>.py`` exposes ``run() -> Iterator[dict]``; each dict becomes one
line ``{"bench": ..., "value": ..., "unit": ..., ...}``. Figures are medians of several runs.
"""
