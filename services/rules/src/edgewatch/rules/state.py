"""Explicit states: a rule's run state (running / stopped / error) and each device's alert state machine.

``DeviceState.update`` is the whole rule semantics for one sample: window aggregate -> raise condition with
debounce (consecutive count and hold time) while normal; clear condition (hysteresis) with its own count while
raised. It returns the transition, if any; acting on it is the engine's job. ``Criteria`` is a rule's
condition flattened once (operator functions, thresholds, nanosecond durations) so a sample costs a few
attribute reads and one comparison; ``Criteria.leaf`` does the same for one comparison of a compound rule, whose
leaves are each a ``DeviceState`` of their own.
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from edgewatch.rules.condition import Condition, Debounce, Window
from edgewatch.rules.rule import Rule

__all__ = ["AlertState", "Criteria", "DeviceState", "RunState", "Transition"]

_NS = 1_000_000_000
_PLAIN = frozenset({"mean", "max", "min"})
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
        """Flatten a single-condition ``rule``."""
        return cls.leaf(rule.condition, rule.debounce, rule.window)

    @classmethod
    def leaf(cls, c: Condition, d: Debounce | None, w: Window | None) -> Criteria:
        """Flatten one comparison with its debounce and window (defaults when absent).

        Raises:
            ValueError: ``c`` is a group, not a comparison.
        """
        if c.comparator is None or c.threshold is None:
            raise ValueError("a group is not a comparison")
        d, w = d or Debounce(), w or Window()
        agg = "last" if w.aggregate == "last" or (w.max_samples == 1 and w.aggregate in _PLAIN) else w.aggregate
        return cls(
            op=_OPS[c.comparator],
            threshold=c.threshold,
            clear=c.clear,
            count=d.count,
            hold_ns=int(d.seconds * _NS),
            clear_count=d.clear_count,
            aggregate=agg,
            max_samples=w.max_samples,
            min_samples=w.min_samples,
            window_ns=int(w.seconds * _NS),
        )

    @classmethod
    def gate(cls, d: Debounce) -> Criteria:
        """A compound rule's own state machine: fed 1.0 while its tree holds and 0.0 while it does not."""
        return cls(_OPS[">"], 0.5, 0.5, d.count, int(d.seconds * _NS), d.clear_count, "last", 1, 1, 0)


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
    last_action_ns: int | None = None  # sample time of the last raise that acted (cooldown)
    leaves: list[DeviceState] = field(default_factory=list)  # compound rules: one state per comparison
    truth: bool | None = None  # compound rules: the tree's last value (valid once evaluated is set)
    evaluated: bool = False

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
        """The window's aggregate (or delta / rate); None until the window can decide."""
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
        agg = c.aggregate
        if agg == "mean":
            return sum(buf) / len(buf)
        if agg == "max":
            return max(buf)
        if agg == "min":
            return min(buf)
        if len(buf) < 2:
            return None
        if agg == "delta":
            return buf[-1] - buf[0]
        dt = times[-1] - times[0]  # rate: per second of sample time
        return (buf[-1] - buf[0]) * _NS / dt if dt > 0 else None
