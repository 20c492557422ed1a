from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from replayterm.core.strategy.base import Strategy, params_from_strings
from replayterm.core.strategy.loader import StrategyLoadError, load_strategy_class

PLUGIN = """
import dataclasses
from replayterm.core.strategy.base import Strategy

class Counter(Strategy):
    name = "counter"

    @dataclasses.dataclass
    class Params:
        every: int = 10
        scale: float = 1.5
        loud: bool = False

    def on_book(self, ctx, book):
        pass
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_loads_the_strategy_class_from_a_py_file(tmp_path: Path) -> None:
    cls = load_strategy_class(write(tmp_path, "counter.py", PLUGIN))
    assert issubclass(cls, Strategy)
    assert cls.name == "counter"
    assert cls().params.every == 10


def test_reloading_a_changed_file_gives_the_new_code(tmp_path: Path) -> None:
    path = write(tmp_path, "counter.py", PLUGIN)
    first = load_strategy_class(path)
    path.write_text(PLUGIN.replace('name = "counter"', 'name = "counter2"'))
    second = load_strategy_class(path)
    assert (first.name, second.name) == ("counter", "counter2")


def test_file_with_a_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.py", "def oops(:\n")
    with pytest.raises(StrategyLoadError, match=r"broken\.py"):
        load_strategy_class(path)


def test_file_without_strategy_and_with_two_strategies(tmp_path: Path) -> None:
    with pytest.raises(StrategyLoadError, match="defines no subclass"):
        load_strategy_class(write(tmp_path, "empty.py", "x = 1\n"))
    two = PLUGIN + "\nclass Other(Strategy):\n    pass\n"
    path = write(tmp_path, "two.py", two)
    with pytest.raises(StrategyLoadError, match="several strategies"):
        load_strategy_class(path)
    assert load_strategy_class(f"{path}:Other").__name__ == "Other"


def test_unknown_name_lists_what_is_registered() -> None:
    with pytest.raises(StrategyLoadError, match="no strategy file or registered strategy named 'nope'"):
        load_strategy_class("nope")


def test_params_from_strings_converts_and_rejects(tmp_path: Path) -> None:
    cls = load_strategy_class(write(tmp_path, "counter.py", PLUGIN))
    params = params_from_strings(cls.Params, {"every": "3", "scale": "0.5", "loud": "yes"})
    assert dataclasses.asdict(params) == {"every": 3, "scale": 0.5, "loud": True}
    with pytest.raises(ValueError, match="expects int"):
        params_from_strings(cls.Params, {"every": "x"})
    with pytest.raises(ValueError, match="unknown parameter 'nope'"):
        params_from_strings(cls.Params, {"nope": "1"})


def test_reload_sees_a_same_size_save_within_the_same_second(tmp_path: Path) -> None:
    import os

    path = write(tmp_path, "counter.py", PLUGIN)
    stat = path.stat()
    assert load_strategy_class(path).name == "counter"
    path.write_text(PLUGIN.replace('name = "counter"', 'name = "counte2"'))  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the same timestamp
    assert load_strategy_class(path).name == "counte2"
