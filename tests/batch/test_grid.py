"""Grid options: parsing, typing by the strategy's Params, and the order of combinations."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from replayterm.batch import GridAxis, expand_grid, parse_grid_option, typed_axes


@dataclass
class Params:
    lookback: int = 10
    entry_z: float = 2.0
    on: bool = True
    label: str = "a"


def test_parse_grid_option_splits_name_and_values() -> None:
    assert parse_grid_option("size=0.01,0.02, 0.03") == ("size", ["0.01", "0.02", "0.03"])
    assert parse_grid_option(" lookback =5") == ("lookback", ["5"])


@pytest.mark.parametrize("text", ["size", "=1,2", "size=", "size=1,,2", "size=1,1"])
def test_parse_grid_option_rejects_malformed_options(text: str) -> None:
    with pytest.raises(ValueError, match="--grid"):
        parse_grid_option(text)


def test_values_take_the_params_field_types() -> None:
    axes = typed_axes(Params, [("lookback", ["5", "10"]), ("entry_z", ["1", "2.5"]), ("on", ["no", "yes"])])
    assert axes == [
        GridAxis("lookback", (5, 10)),
        GridAxis("entry_z", (1.0, 2.5)),
        GridAxis("on", (False, True)),
    ]
    assert type(axes[1].values[0]) is float


def test_bad_grids_name_the_parameter() -> None:
    with pytest.raises(ValueError, match="unknown parameter 'nope'"):
        typed_axes(Params, [("nope", ["1"])])
    with pytest.raises(ValueError, match="'lookback' expects int"):
        typed_axes(Params, [("lookback", ["1.5"])])
    with pytest.raises(ValueError, match="swept twice"):
        typed_axes(Params, [("lookback", ["1"]), ("lookback", ["2"])])
    with pytest.raises(ValueError, match="both swept"):
        typed_axes(Params, [("lookback", ["1"])], {"lookback": "3"})
    with pytest.raises(ValueError, match="same after conversion"):
        typed_axes(Params, [("entry_z", ["1", "1.0"])])
    with pytest.raises(ValueError, match="'entry_z' expects float"):
        typed_axes(Params, [], {"entry_z": "x"})


def test_expand_grid_is_the_product_with_the_last_axis_fastest() -> None:
    axes = [GridAxis("a", (1, 2)), GridAxis("b", ("x", "y", "z"))]
    combos = expand_grid(axes)
    assert combos == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 1, "b": "z"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
        {"a": 2, "b": "z"},
    ]
    assert expand_grid([]) == [{}]
