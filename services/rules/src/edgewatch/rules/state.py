"""Explicit states: a rule's run state (running / stopped / error) and each device's alert state machine.

``DeviceState.update`` is the whole rule semantics for one sample: window aggregate -> raise condition with
debounce (consecutive count and hold time) while normal; clear condition (hysteresis) with its own count while
raised. It returns the transition, if any; acting on it is the engine's job. ``Criteria`` is a rule's
condition flattened once (operator functions, thresholds, nanosecond durations) so a sample costs a few
attribute reads and one comparison.
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from edgewatch.rules.rule import Rule

__all__ = ["AlertState", "Criteria", "DeviceState", "RunState", "Transition"]

_NS = 1_000_000_000
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


class RunState(StrEnum):
    """ekuiper-style rule run state."""

    RUNNING = "running"
    STOPPED = "stopped"
    ERROR = "error"  # still evaluating; its last actuation failed after every retry (see lastError)


class AlertState(StrEnum):
    """Per-device alert state of a rule."""

    NORMAL = "normal"
    RAISED = "raised"


@dataclass(frozen=True, slots=True)
class Criteria:
    """A rule's condition, debounce and window, flattened for evaluation."""

    op: Callable[[float, float], bool]
    threshold: float
    clear: float
    count: int
    hold_ns: int
    clear_count: int
    aggregate: str
    max_samples: int
    min_samples: int
    window_ns: int

    @classmethod
    def of(cls, rule: Rule) -> Criteria:
        """Flatten ``rule``."""
        c, d, w = rule.condition, rule.debounce, rule.window
        agg = "last" if w.aggregate == "last" or w.max_samples == 1 else w.aggregate
        return cls(
            op=_OPS[c.comparator],
            threshold=c.threshold,
            clear=c.clear,
            count=d.count,
            hold_ns=int(d.seconds * _NS),
            clear_count=d.clear_count,
            aggregate=agg,
            max_samples=w.max_samples,
            min_samples=w.samples or 1,
            window_ns=int(w.seconds * _NS),
        )


@dataclass(frozen=True, slots=True)
class Transition:
    """A state change decided by one sample."""

    state: AlertState
    value: float
    threshold: float
    samples: int


@dataclass(slots=True)
class DeviceState:
    """One device's state under one rule."""

    state: AlertState = AlertState.NORMAL
    window: deque[float] = field(default_factory=deque)
    window_t: deque[int] = field(default_factory=deque)
    hits: int = 0
    hit_since: int = -1
    clears: int = 0
    last_value: float | None = None
    last_sample_ns: int = 0
    last_seen_mono: float = 0.0
    incident: str = ""
    stale: bool = False
    stale_incident: str = ""

    def update(self, c: Criteria, value: float, t_ns: int) -> Transition | None:
        """Feed one sample taken at ``t_ns``; returns the raise/clear it causes, if any."""
        self.last_sample_ns = t_ns
        if c.aggregate != "last":
            agg = self._aggregate(c, value, t_ns)
            if agg is None:
                return None
            value = agg
        self.last_value = value
        if self.state is AlertState.NORMAL:
            if not c.op(value, c.threshold):
                self.hits, self.hit_since = 0, -1
                return None
            self.hits += 1
            if self.hit_since < 0:
                self.hit_since = t_ns
            if self.hits >= c.count and t_ns - self.hit_since >= c.hold_ns:
                self.state, self.clears = AlertState.RAISED, 0
                return Transition(AlertState.RAISED, value, c.threshold, self.hits)
            return None
        if c.op(value, c.clear):
            self.clears = 0
            return None
        self.clears += 1
        if self.clears >= c.clear_count:
            self.state, self.hits, self.hit_since = AlertState.NORMAL, 0, -1
            return Transition(AlertState.NORMAL, value, c.clear, self.clears)
        return None

    def _aggregate(self, c: Criteria, value: float, t_ns: int) -> float | None:
        """The window's aggregate; None until a window with an explicit sample count is full."""
        buf, times = self.window, self.window_t
        buf.append(value)
        times.append(t_ns)
        if len(buf) > c.max_samples:
            buf.popleft()
            times.popleft()
        if c.window_ns:
            oldest = t_ns - c.window_ns
            while times and times[0] < oldest:
                buf.popleft()
                times.popleft()
        if len(buf) < c.min_samples:
            return None
        if c.aggregate == "mean":
            return sum(buf) / len(buf)
        return max(buf) if c.aggregate == "max" else min(buf)
