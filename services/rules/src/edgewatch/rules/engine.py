"""RuleEngine: routes samples to the rules that watch them and turns state transitions into decisions.

The engine is synchronous and owns no I/O: messaging (or a dry run) feeds it samples, the actuator carries out
its decisions (alerts and commands). Samples are indexed by (kind, name) so a score only visits score rules;
a compound rule is indexed once per leaf. Every decision depends only on the samples and their times (the
wall clock only drives the stale fail-safe), which is what lets a dry run reproduce a live run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from edgewatch.common.contracts.errors import ConflictError, NotFoundError
from edgewatch.common.contracts.ids import random_uuid
from edgewatch.rules.compound import CompoundPlan, Leaf
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
    t_ns: int = 0  # sample time of the deciding sample (0 for stale decisions)
    act: bool = True  # False: a raise inside the rule's cooldown (alert only, no commands)
    correlation_id: str = ""  # EdgeX correlation id of the event behind the deciding sample (messaging sets it)


@dataclass
class RuleRuntime:
    """A rule, its run state and its per-device (per-instance) states."""

    rule: Rule
    run_state: RunState = RunState.RUNNING
    last_error: str = ""
    criteria: Criteria = field(init=False)
    plan: CompoundPlan | None = field(init=False)
    device_filter: str = field(init=False)
    devices: dict[str, DeviceState] = field(default_factory=dict)
    shared: list[DeviceState] = field(default_factory=list)  # compound: states of leaves naming a device
    started_mono: float = field(default_factory=time.monotonic)
    raises: int = 0
    cooldown_ns: int = field(init=False)
    what: str = field(init=False)  # "mean score" / "reading Current": messages' subject, formatted once

    def __post_init__(self) -> None:
        rule = self.rule
        self.what = _what(rule)
        self.cooldown_ns = int(rule.cooldown.seconds * 1e9) if rule.cooldown is not None else 0
        if rule.compound:
            self.plan = CompoundPlan.of(rule)
            self.criteria = self.plan.gate
            self.device_filter = "" if self.plan.wild else self.plan.fixed_device
        else:
            self.plan = None
            self.criteria = Criteria.of(rule)
            src = rule.source.device if rule.source is not None else "*"
            self.device_filter = "" if src == "*" else src
        self.reset()

    def reset(self) -> None:
        """Forget every device and leaf state."""
        self.devices.clear()
        self.shared = [DeviceState() for _ in self.plan.leaves] if self.plan is not None else []

    def new_state(self) -> DeviceState:
        """A fresh state for one device (an instance with its leaves for a compound rule)."""
        return self.plan.new_instance(self.shared) if self.plan is not None else DeviceState()

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
        self._cindex: dict[tuple[str, str], list[tuple[RuleRuntime, Leaf]]] = {}
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
            rt.reset()
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
        return {k for k, _ in self._index} | {k for k, _ in self._cindex}

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
        cindex: dict[tuple[str, str], list[tuple[RuleRuntime, Leaf]]] = {}
        for rt in self.rules.values():
            if rt.plan is not None:
                for leaf in rt.plan.leaves:
                    cindex.setdefault((leaf.kind, leaf.name), []).append((rt, leaf))
            elif rt.rule.source is not None:
                index.setdefault((rt.rule.source.kind, rt.rule.source.name), []).append(rt)
        self._index, self._cindex = index, cindex
        names: dict[str, set[str]] = {}
        for kind, name in [*index, *cindex]:
            names.setdefault(kind, set()).add(name)
        self._names = {k: frozenset(v) for k, v in names.items()}

    # --- evaluation ---------------------------------------------------------------------------------------

    def on_sample(self, kind: SourceKind, device: str, name: str, value: float, t_ns: int) -> list[Decision]:
        """Feed one sample to every rule watching (kind, name) on ``device``."""
        out: list[Decision] = []
        key = (kind, name)
        rts = self._index.get(key)
        if rts:
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
                    out.append(self._decide(rt, device, ds, tr, t_ns))
        if self._cindex:
            leaves = self._cindex.get(key)
            if leaves:
                self._compound(leaves, device, value, t_ns, out)
        return out

    def _compound(
        self, leaves: list[tuple[RuleRuntime, Leaf]], device: str, value: float, t_ns: int, out: list[Decision]
    ) -> None:
        now = self._clock()
        for rt, leaf in leaves:
            plan = rt.plan
            if plan is None or rt.run_state is RunState.STOPPED:
                continue
            if leaf.device:  # a named device: one state, shared by every instance
                if leaf.device != device:
                    continue
                changed = _feed(rt.shared[leaf.index], leaf, value, t_ns)
                if plan.wild:
                    for dev, inst in list(rt.devices.items()):
                        self._evaluate(rt, plan, dev, inst, leaf, t_ns, changed, out)
                    continue
                device_ = plan.fixed_device
                inst = self._instance(rt, device_, now, out)
            else:  # the hot path (a leaf following the sample's device), inlined
                device_ = device
                found = rt.devices.get(device)
                if found is None or found.stale:
                    inst = self._instance(rt, device, now, out)
                else:
                    inst = found
                    inst.last_seen_mono = now
                ls = inst.leaves[leaf.index]
                state, known = ls.state, ls.last_value is not None
                ls.update(leaf.criteria, value, t_ns)
                changed = ls.state is not state or (ls.last_value is not None) is not known
                if not changed and inst.evaluated and not plan.aging and plan.trivial_gate:
                    truth = inst.truth  # unchanged tree, no debounce: nothing to decide unless state and truth differ
                    if truth is not None and (inst.state is AlertState.RAISED) is truth:
                        if t_ns > inst.last_sample_ns:
                            inst.last_sample_ns = t_ns
                        continue
            self._evaluate(rt, plan, device_, inst, leaf, t_ns, changed, out)

    def _instance(self, rt: RuleRuntime, device: str, now: float, out: list[Decision]) -> DeviceState:
        inst = rt.devices.get(device)
        if inst is None:
            inst = rt.devices[device] = rt.new_state()
        inst.last_seen_mono = now
        if inst.stale:
            out.append(self._stale_cleared(rt, device, inst))
        return inst

    def _evaluate(
        self,
        rt: RuleRuntime,
        plan: CompoundPlan,
        device: str,
        inst: DeviceState,
        leaf: Leaf,
        t_ns: int,
        changed: bool,
        out: list[Decision],
    ) -> None:
        now_ns = t_ns if t_ns > inst.last_sample_ns else inst.last_sample_ns  # the instance's newest sample time
        if changed or plan.aging or not inst.evaluated:
            truth = inst.truth = plan.truth(inst.leaves, now_ns)
            inst.evaluated = True
        else:  # no leaf changed its truth and nothing ages: the tree cannot have changed
            truth = inst.truth
        if truth is None:
            if plan.unknown == "hold":
                inst.last_sample_ns = now_ns
                return
            truth = plan.unknown == "raise"
        if plan.trivial_gate and (inst.state is AlertState.RAISED) is truth:
            # no debounce and no change: update() would decide nothing; keep what status shows current
            inst.last_sample_ns, inst.last_value = now_ns, 1.0 if truth else 0.0
            return
        tr = inst.update(plan.gate, 1.0 if truth else 0.0, now_ns)
        if tr is None:
            return
        ls = inst.leaves[leaf.index]
        c = leaf.criteria
        value = ls.last_value if ls.last_value is not None else tr.value
        threshold = c.threshold if tr.state is AlertState.RAISED else c.clear
        tree = plan.describe(inst.leaves, device, now_ns)
        if tr.state is AlertState.RAISED:
            msg = f"{tree} held for {tr.samples} evaluation(s)"
        else:
            msg = f"{tree} no longer holds"
        out.append(self._transition(rt, device, inst, tr, value, threshold, msg, now_ns))

    def check_stale(self) -> list[Decision]:
        """Raise ``stale`` for devices whose samples stopped for longer than their rule's ``stale.seconds``."""
        out: list[Decision] = []
        now = self._clock()
        for rt in self.rules.values():
            stale = rt.rule.stale
            if stale is None or not rt.evaluating:
                continue
            src = rt.device_filter
            if stale.arm_on_start and src and src not in rt.devices:
                ds = rt.devices[src] = rt.new_state()
                ds.last_seen_mono = rt.started_mono
            for device, ds in rt.devices.items():
                age = now - ds.last_seen_mono
                if not ds.stale and age > stale.seconds:
                    ds.stale = True
                    ds.stale_incident = alert_id = random_uuid()
                    msg = f"no {rt.what} from {device} for {age:.1f}s (limit {stale.seconds:g}s)"
                    out.append(
                        Decision(
                            rt.rule, device, "stale", AlertState.RAISED, age, stale.seconds, alert_id, alert_id, msg
                        )
                    )
        return out

    def _stale_cleared(self, rt: RuleRuntime, device: str, ds: DeviceState) -> Decision:
        ds.stale = False
        limit = rt.rule.stale.seconds if rt.rule.stale is not None else 0.0
        msg = f"{rt.what} from {device} arriving again"
        return Decision(rt.rule, device, "stale", AlertState.NORMAL, 0.0, limit, random_uuid(), ds.stale_incident, msg)

    def _decide(self, rt: RuleRuntime, device: str, ds: DeviceState, tr: Transition, t_ns: int) -> Decision:
        cmp, c = rt.rule.condition.comparator, rt.criteria
        if tr.state is AlertState.RAISED:
            msg = f"{rt.what} of {device} {tr.value:.6g} {cmp} {c.threshold:g} for {tr.samples} sample(s)"
        else:
            msg = f"{rt.what} of {device} {tr.value:.6g} no longer {cmp} clear threshold {c.clear:g}"
        return self._transition(rt, device, ds, tr, tr.value, tr.threshold, msg, t_ns)

    def _transition(
        self,
        rt: RuleRuntime,
        device: str,
        ds: DeviceState,
        tr: Transition,
        value: float,
        threshold: float,
        msg: str,
        t_ns: int,
    ) -> Decision:
        alert_id = random_uuid()
        act = True
        if tr.state is AlertState.RAISED:
            ds.incident = alert_id
            rt.raises += 1
            last = ds.last_action_ns
            if rt.cooldown_ns and last is not None and t_ns - last < rt.cooldown_ns:
                act = False
                left = (rt.cooldown_ns - (t_ns - last)) / 1e9
                msg = f"{msg}; actions held back by the cooldown ({left:.0f}s left)"
            elif rt.rule.actions:
                ds.last_action_ns = t_ns
        return Decision(rt.rule, device, "threshold", tr.state, value, threshold, alert_id, ds.incident, msg, t_ns, act)


def _feed(ls: DeviceState, leaf: Leaf, value: float, t_ns: int) -> bool:
    """Update one leaf; True when its truth (raised / normal / unknown) may have changed."""
    state, known = ls.state, ls.last_value is not None
    ls.update(leaf.criteria, value, t_ns)
    return ls.state is not state or (ls.last_value is not None) is not known


def _what(rule: Rule) -> str:
    src = rule.source
    if rule.compound or src is None:
        return "samples for the condition"
    agg = "" if rule.window.aggregate == "last" else f"{rule.window.aggregate} "
    return f"{agg}{src.kind}" if src.kind == "score" else f"{agg}{src.kind} {src.name}"
