"""RuleEngine: routes samples to the rules that watch them and turns state transitions into decisions.

The engine is synchronous and owns no I/O: messaging feeds it samples, the actuator carries out its
decisions (alerts and commands). Samples are indexed by (kind, name) so a score only visits score rules.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from edgewatch.common.contracts.errors import ConflictError, NotFoundError
from edgewatch.rules.rule import Rule
from edgewatch.rules.state import AlertState, Criteria, DeviceState, RunState, Transition

__all__ = ["Decision", "RuleEngine", "RuleRuntime", "SourceKind"]

SourceKind = Literal["score", "feature", "reading"]


@dataclass(frozen=True)
class Decision:
    """An alert to publish (and, on a raise, actions to run)."""

    rule: Rule
    device: str
    kind: Literal["threshold", "stale"]
    state: AlertState
    value: float
    threshold: float
    alert_id: str
    incident: str
    message: str


@dataclass
class RuleRuntime:
    """A rule, its run state and its per-device states."""

    rule: Rule
    run_state: RunState = RunState.RUNNING
    last_error: str = ""
    criteria: Criteria = field(init=False)
    device_filter: str = field(init=False)
    devices: dict[str, DeviceState] = field(default_factory=dict)
    started_mono: float = field(default_factory=time.monotonic)
    raises: int = 0

    def __post_init__(self) -> None:
        self.criteria = Criteria.of(self.rule)
        self.device_filter = "" if self.rule.source.device == "*" else self.rule.source.device

    @property
    def evaluating(self) -> bool:
        """Running and error rules evaluate; stopped ones do not."""
        return self.run_state is not RunState.STOPPED


class RuleEngine:
    """All rules of the service, with their state."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.rules: dict[str, RuleRuntime] = {}
        self._index: dict[tuple[str, str], list[RuleRuntime]] = {}
        self._names: dict[str, frozenset[str]] = {}

    # --- definitions and run states ---------------------------------------------------------------------

    def add(self, rule: Rule, run_state: RunState = RunState.RUNNING) -> RuleRuntime:
        """Add a new rule.

        Raises:
            ConflictError: a rule with that name exists.
        """
        if rule.name in self.rules:
            raise ConflictError(f"rule {rule.name} already exists", field="name")
        return self._put(rule, run_state)

    def replace(self, rule: Rule) -> RuleRuntime:
        """Replace a rule's definition (its device states restart from normal; the run state is kept).

        Raises:
            NotFoundError: no such rule.
        """
        old = self.get(rule.name)
        return self._put(rule, RunState.RUNNING if old.run_state is RunState.ERROR else old.run_state)

    def remove(self, name: str) -> None:
        """Delete a rule.

        Raises:
            NotFoundError: no such rule.
        """
        self.get(name)
        del self.rules[name]
        self._reindex()

    def get(self, name: str) -> RuleRuntime:
        """A rule's runtime.

        Raises:
            NotFoundError: no such rule.
        """
        rt = self.rules.get(name)
        if rt is None:
            raise NotFoundError(f"rule {name} not found", field="name")
        return rt

    def set_run_state(self, name: str, state: RunState) -> RuleRuntime:
        """Start (running) or stop a rule; stopping forgets its device states, starting begins afresh."""
        rt = self.get(name)
        if state is RunState.STOPPED or rt.run_state is RunState.STOPPED:
            rt.devices.clear()
            rt.started_mono = self._clock()
        rt.run_state, rt.last_error = state, ""
        return rt

    def record_action_result(self, name: str, error: str) -> None:
        """An actuation finished: an error puts the rule in the error state, success clears it."""
        rt = self.rules.get(name)
        if rt is None or rt.run_state is RunState.STOPPED:
            return
        if error:
            rt.run_state, rt.last_error = RunState.ERROR, error
        elif rt.run_state is RunState.ERROR:
            rt.run_state, rt.last_error = RunState.RUNNING, ""

    def kinds_in_use(self) -> set[str]:
        """Source kinds some rule watches (messaging subscribes only to those)."""
        return {k for k, _ in self._index}

    def names_in_use(self, kind: SourceKind) -> frozenset[str]:
        """Feature or reading names some rule of ``kind`` watches."""
        return self._names.get(kind, frozenset())

    def _put(self, rule: Rule, run_state: RunState) -> RuleRuntime:
        rt = RuleRuntime(rule, run_state, started_mono=self._clock())
        self.rules[rule.name] = rt
        self._reindex()
        return rt

    def _reindex(self) -> None:
        index: dict[tuple[str, str], list[RuleRuntime]] = {}
        for rt in self.rules.values():
            index.setdefault((rt.rule.source.kind, rt.rule.source.name), []).append(rt)
        self._index = index
        names: dict[str, set[str]] = {}
        for kind, name in index:
            names.setdefault(kind, set()).add(name)
        self._names = {k: frozenset(v) for k, v in names.items()}

    # --- evaluation ---------------------------------------------------------------------------------------

    def on_sample(self, kind: SourceKind, device: str, name: str, value: float, t_ns: int) -> list[Decision]:
        """Feed one sample to every rule watching (kind, name) on ``device``."""
        out: list[Decision] = []
        rts = self._index.get((kind, name))
        if not rts:
            return out
        now = self._clock()
        for rt in rts:
            only = rt.device_filter
            if (only and only != device) or rt.run_state is RunState.STOPPED:
                continue
            ds = rt.devices.get(device)
            if ds is None:
                ds = rt.devices[device] = DeviceState()
            ds.last_seen_mono = now
            if ds.stale:
                out.append(self._stale_cleared(rt, device, ds))
            tr = ds.update(rt.criteria, value, t_ns)
            if tr is not None:
                out.append(self._decide(rt, device, ds, tr))
        return out

    def check_stale(self) -> list[Decision]:
        """Raise ``stale`` for devices whose samples stopped for longer than their rule's ``stale.seconds``."""
        out: list[Decision] = []
        now = self._clock()
        for rt in self.rules.values():
            stale = rt.rule.stale
            if stale is None or not rt.evaluating:
                continue
            src = rt.rule.source.device
            if stale.arm_on_start and src != "*" and src not in rt.devices:
                rt.devices[src] = DeviceState(last_seen_mono=rt.started_mono)
            for device, ds in rt.devices.items():
                age = now - ds.last_seen_mono
                if not ds.stale and age > stale.seconds:
                    ds.stale = True
                    ds.stale_incident = alert_id = str(uuid.uuid4())
                    msg = f"no {_what(rt.rule)} from {device} for {age:.1f}s (limit {stale.seconds:g}s)"
                    out.append(
                        Decision(
                            rt.rule, device, "stale", AlertState.RAISED, age, stale.seconds, alert_id, alert_id, msg
                        )
                    )
        return out

    def _stale_cleared(self, rt: RuleRuntime, device: str, ds: DeviceState) -> Decision:
        ds.stale = False
        limit = rt.rule.stale.seconds if rt.rule.stale is not None else 0.0
        msg = f"{_what(rt.rule)} from {device} arriving again"
        return Decision(
            rt.rule, device, "stale", AlertState.NORMAL, 0.0, limit, str(uuid.uuid4()), ds.stale_incident, msg
        )

    def _decide(self, rt: RuleRuntime, device: str, ds: DeviceState, tr: Transition) -> Decision:
        alert_id = str(uuid.uuid4())
        cond = rt.rule.condition
        what = f"{_what(rt.rule)} of {device}"
        if tr.state is AlertState.RAISED:
            ds.incident = alert_id
            rt.raises += 1
            msg = f"{what} {tr.value:.6g} {cond.comparator} {cond.threshold:g} for {tr.samples} sample(s)"
        else:
            msg = f"{what} {tr.value:.6g} no longer {cond.comparator} clear threshold {cond.clear:g}"
        return Decision(rt.rule, device, "threshold", tr.state, tr.value, tr.threshold, alert_id, ds.incident, msg)


def _what(rule: Rule) -> str:
    src = rule.source
    agg = "" if rule.window.aggregate == "last" else f"{rule.window.aggregate} "
    return f"{agg}{src.kind}" if src.kind == "score" else f"{agg}{src.kind} {src.name}"
