"""Fuzz fixtures: per-entry-point figures written at the end of each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.fuzz.report import EntryStats


@pytest.fixture
def entry() -> Iterator[Callable[[str], EntryStats]]:
    """``entry(name)``: the figures of one entry point, printed (and reported) when the test ends."""
    made: dict[str, EntryStats] = {}

    def make(name: str) -> EntryStats:
        return made.setdefault(name, EntryStats(name))

    yield make
    for stats in made.values():
        stats.write()
