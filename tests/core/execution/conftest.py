"""Fixtures for the simulated exchange tests (helpers live in exec_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from exec_helpers import DictBook, Driver

from replayterm.core.execution import SimExchange


@pytest.fixture
def make_book() -> Callable[..., DictBook]:
    return DictBook


@pytest.fixture
def make_driver() -> Callable[..., Driver]:
    def build(book: DictBook | None = None, **kwargs: object) -> Driver:
        book = book if book is not None else DictBook({99.0: 5.0, 98.0: 5.0}, {101.0: 5.0, 102.0: 5.0})
        return Driver(SimExchange(**kwargs), book)  # type: ignore[arg-type]

    return build
