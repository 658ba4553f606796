"""Explicit states: a rule's run state (running / stopped / error) and each device's alert state machine.

``DeviceState.update`` is the whole rule semantics for one sample: window aggregate -> raise condition with
debounce (consecutive count and hold time) while normal; clear condition (hysteresis) with its own count while
raised. It returns the transition, if any; acting on it is the engine's job.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

from edgewatch.rules.rule import Rule, compare

__all__ = ["AlertState", "DeviceState", "RunState", "Transition"]

_NS = 1_000_000_000


class RunState(StrEnum):
    """ekuiper-style rule run state."""

    RUNNING = "running"
    STOPPED = "stopped"
    ERROR = "error"  # still evaluating; its last actuation failed after every retry (see lastError)


class AlertState(StrEnum):
    """Per-device alert state of a rule."""

    NORMAL = "normal"
    RAISED = "raised"


@dataclass(frozen=True)
class Transition:
    """A state change decided by one sample."""

    state: AlertState
    value: float
    threshold: float
    samples: int


@dataclass
class DeviceState:
    """One device's state under one rule."""

    state: AlertState = AlertState.NORMAL
    window: deque[tuple[int, float]] = field(default_factory=deque)
    hits: int = 0
    hit_since: int | None = None
    clears: int = 0
    last_value: float | None = None
    last_sample_ns: int = 0
    last_seen_mono: float = 0.0
    incident: str = ""
    stale: bool = False
    stale_incident: str = ""

    def update(self, rule: Rule, value: float, t_ns: int) -> Transition | None:
        """Feed one sample taken at ``t_ns``; returns the raise/clear it causes, if any."""
        agg = self._aggregate(rule, value, t_ns)
        self.last_sample_ns = t_ns
        if agg is None:
            return None
        self.last_value = agg
        cond, deb = rule.condition, rule.debounce
        if self.state is AlertState.NORMAL:
            if not compare(agg, cond.comparator, cond.threshold):
                self.hits, self.hit_since = 0, None
                return None
            self.hits += 1
            if self.hit_since is None:
                self.hit_since = t_ns
            if self.hits >= deb.count and t_ns - self.hit_since >= deb.seconds * _NS:
                self.state, self.clears = AlertState.RAISED, 0
                return Transition(AlertState.RAISED, agg, cond.threshold, self.hits)
            return None
        if compare(agg, cond.comparator, cond.clear):
            self.clears = 0
            return None
        self.clears += 1
        if self.clears >= deb.clear_count:
            self.state, self.hits, self.hit_since = AlertState.NORMAL, 0, None
            return Transition(AlertState.NORMAL, agg, cond.clear, self.clears)
        return None

    def _aggregate(self, rule: Rule, value: float, t_ns: int) -> float | None:
        """The window's aggregate; None until a window with an explicit sample count is full."""
        w = rule.window
        if w.aggregate == "last" or w.max_samples == 1:
            return value
        buf = self.window
        buf.append((t_ns, value))
        while len(buf) > w.max_samples:
            buf.popleft()
        if w.seconds > 0:
            oldest = t_ns - int(w.seconds * _NS)
            while buf and buf[0][0] < oldest:
                buf.popleft()
        if w.samples is not None and len(buf) < w.samples:
            return None
        values = [v for _, v in buf]
        if w.aggregate == "mean":
            return sum(values) / len(values)
        return max(values) if w.aggregate == "max" else min(values)
