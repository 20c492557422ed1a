"""Parameter grids: ``NAME=V1,V2,…`` options -> every combination, typed by the strategy's Params.

Combinations come in a fixed order: the product of the grids in the order they were given, the
last grid varying fastest (like nested loops written in that order). Values are converted with
the strategy's own ``Params`` field types, so ``size=0.01`` is a float and ``lookback=50`` an int.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from replayterm.core.strategy.base import build_params


@dataclass(frozen=True)
class GridAxis:
    """One swept parameter and its values, in the order given."""

    name: str
    values: tuple[Any, ...]


def parse_grid_option(text: str) -> tuple[str, list[str]]:
    """``"size=0.01,0.02"`` -> ``("size", ["0.01", "0.02"])``; ValueError says what is wrong."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ValueError(f"--grid {text!r}: expected NAME=V1,V2,…")
    values = [v.strip() for v in raw.split(",")]
    if not raw.strip() or any(v == "" for v in values):
        raise ValueError(f"--grid {text!r}: empty value in the list")
    if len(set(values)) != len(values):
        raise ValueError(f"--grid {text!r}: a value is repeated")
    return name, values


def typed_axes(
    params_type: type, grid: Sequence[tuple[str, Sequence[Any]]], fixed: Mapping[str, Any] | None = None
) -> list[GridAxis]:
    """Axes with values converted to the Params field types. ValueError names the parameter:
    unknown, swept twice, also given as a fixed value, or a value of the wrong type."""
    fields = (
        {f.name for f in dataclasses.fields(params_type)} if dataclasses.is_dataclass(params_type) else set()
    )
    fixed = dict(fixed or {})
    axes: list[GridAxis] = []
    seen: set[str] = set()
    for name, values in grid:
        if name not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise ValueError(f"unknown parameter '{name}' (known: {known})")
        if name in seen:
            raise ValueError(f"parameter '{name}' is swept twice; give all its values in one --grid")
        if name in fixed:
            raise ValueError(f"parameter '{name}' is both swept (--grid) and fixed (--param)")
        seen.add(name)
        typed = tuple(getattr(build_params(params_type, {name: v}), name) for v in values)
        if len(set(typed)) != len(typed):
            raise ValueError(f"parameter '{name}': two values are the same after conversion: {list(values)}")
        axes.append(GridAxis(name, typed))
    build_params(params_type, fixed)  # a bad fixed value fails here, before any run
    return axes


def expand_grid(axes: Sequence[GridAxis]) -> list[dict[str, Any]]:
    """Every combination as ``{name: value}``, last axis fastest; no axes -> one empty combination."""
    names = [a.name for a in axes]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(a.values for a in axes))]
