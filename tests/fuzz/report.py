"""Fuzz campaign size and its figures: inputs per entry point, worst time per input, statuses seen.

``EDGEWATCH_FUZZ_EXAMPLES`` sets the inputs per entry point (default 30, a short CI run); a longer campaign
sets it higher and ``EDGEWATCH_FUZZ_REPORT`` to a file that gets one JSON line per entry point.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from hypothesis import HealthCheck, settings

__all__ = ["EntryStats", "fuzz_settings"]

EXAMPLES = int(os.environ.get("EDGEWATCH_FUZZ_EXAMPLES", "30"))


def fuzz_settings(scale: float = 1.0) -> settings:
    """Hypothesis settings of the campaign: no deadline (the service's own budgets bound each input), no database."""
    return settings(
        max_examples=max(1, int(EXAMPLES * scale)),
        deadline=None,
        database=None,
        derandomize=EXAMPLES <= 30,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


@dataclass
class EntryStats:
    """What one entry point was fed and how it answered."""

    entry: str
    inputs: int = 0
    worst_s: float = 0.0
    worst_size: int = 0
    statuses: Counter[str] = field(default_factory=Counter)

    @contextmanager
    def timed(self, size: int) -> Iterator[None]:
        """Time one input."""
        t0 = time.perf_counter()
        yield
        took = time.perf_counter() - t0
        self.inputs += 1
        if took > self.worst_s:
            self.worst_s, self.worst_size = took, size

    def saw(self, status: int | str) -> None:
        """Count an answer."""
        self.statuses[str(status)] += 1

    def write(self) -> None:
        """Print the figures and append them to ``EDGEWATCH_FUZZ_REPORT`` when set."""
        line = {
            "entry": self.entry,
            "inputs": self.inputs,
            "worstSeconds": round(self.worst_s, 4),
            "worstInputBytes": self.worst_size,
            "statuses": dict(sorted(self.statuses.items())),
        }
        print("FUZZ", json.dumps(line))
        path = os.environ.get("EDGEWATCH_FUZZ_REPORT")
        if path:
            with open(path, "a", encoding="utf-8") as f:
                f.write(json.dumps(line) + "\n")
