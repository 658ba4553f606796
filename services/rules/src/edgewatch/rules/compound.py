"""Compound rules: an ``all`` / ``any`` / ``not`` tree compiled once into leaves and a tuple program.

Each leaf is one comparison with its own window, hysteresis and debounce, run by the same ``DeviceState``
machine a single-condition rule uses; its truth is "raised". The tree combines leaf truths in three-valued
(Kleene) logic: a leaf with no decision yet, or whose last sample is older than its ``maxAge`` (in sample time,
so a dry run over recorded samples decides as the live rule did), is *unknown*. ``all`` is false as soon as
one child is false, ``any`` true as soon as one is true, ``not`` keeps unknown unknown. The rule's ``unknown``
policy then holds the state, or treats unknown as true (raise) or false (clear).

Instances: a leaf whose source device is ``*`` binds to the instance's device (state per device, as for a
single rule); a leaf naming a device is shared by every instance. Without ``*`` leaves the rule has a single
instance, named after its first leaf's device.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from edgewatch.rules.condition import Condition, Source
from edgewatch.rules.rule import Rule
from edgewatch.rules.state import AlertState, Criteria, DeviceState

__all__ = ["CompoundPlan", "Leaf", "Node"]

_NS = 1_000_000_000

# ("leaf", index) | ("all", children) | ("any", children) | ("not", (child,))
Node = tuple[str, tuple["Node", ...] | int]
# the tree compiled into nested closures over (instance leaf states, sample time); plain functions, no eval
Truth = Callable[[list[DeviceState], int], bool | None]


@dataclass(frozen=True, slots=True)
class Leaf:
    """One comparison of a compound rule."""

    index: int
    kind: str
    name: str
    device: str  # "" = the instance's device (source device "*")
    criteria: Criteria
    max_age_ns: int  # 0 = never stale
    comparator: str
    label: str  # e.g. "mean reading Current"


@dataclass(frozen=True, slots=True)
class CompoundPlan:
    """A compound rule flattened for evaluation."""

    leaves: tuple[Leaf, ...]
    tree: Node
    gate: Criteria
    unknown: Literal["hold", "raise", "clear"]
    wild: bool  # some leaf follows the instance's device
    fixed_device: str  # the single instance's device when no leaf is wild
    aging: bool = False  # some leaf has a maxAge: the truth can change with time alone
    trivial_gate: bool = False  # no rule-level debounce: the state simply follows the truth
    fn: Truth = field(default=lambda _leaves, _now: None, repr=False)

    @classmethod
    def of(cls, rule: Rule) -> CompoundPlan:
        """Compile ``rule`` (a compound rule)."""
        leaves: list[Leaf] = []
        default_age = rule.stale.seconds if rule.stale is not None else 0.0

        def build(c: Condition) -> Node:
            if c.is_leaf:
                src = c.source or rule.source
                if src is None:  # the Rule validator refuses this; kept for the type checker
                    raise ValueError("comparison without a source")
                age = c.max_age if c.max_age is not None else default_age
                leaves.append(
                    Leaf(
                        index=len(leaves),
                        kind=src.kind,
                        name=src.name,
                        device="" if src.device == "*" else src.device,
                        criteria=Criteria.leaf(c, c.debounce, c.window),
                        max_age_ns=int(age * _NS),
                        comparator=c.comparator or ">",
                        label=_label(src, c),
                    )
                )
                return ("leaf", len(leaves) - 1)
            return (c.op, tuple(build(x) for x in c.children))

        tree = build(rule.condition)
        gate = Criteria.gate(rule.debounce)
        return cls(
            leaves=tuple(leaves),
            tree=tree,
            gate=gate,
            unknown=rule.unknown,
            wild=any(not x.device for x in leaves),
            fixed_device=leaves[0].device,
            aging=any(x.max_age_ns for x in leaves),
            trivial_gate=gate.count == 1 and gate.hold_ns == 0 and gate.clear_count == 1,
            fn=_compile(tree, leaves),
        )

    def new_instance(self, shared: list[DeviceState]) -> DeviceState:
        """An instance state whose leaves are its own (``*`` leaves) or the rule's shared ones (named)."""
        return DeviceState(leaves=[shared[x.index] if x.device else DeviceState() for x in self.leaves])

    # --- evaluation -----------------------------------------------------------------------------------------

    def truth(self, leaves: list[DeviceState], now_ns: int) -> bool | None:
        """The tree's value over the instance's leaf states at sample time ``now_ns`` (None = unknown)."""
        return self.fn(leaves, now_ns)

    # --- messages ------------------------------------------------------------------------------------------

    def describe(self, leaves: list[DeviceState], device: str, now_ns: int) -> str:
        """The tree with each leaf's current value, e.g. ``all(score of p 9.2 > 8, not(reading X of p ?))``."""
        return self._text(self.tree, leaves, device, now_ns)

    def _text(self, node: Node, leaves: list[DeviceState], device: str, now_ns: int) -> str:
        op, arg = node
        if op != "leaf":
            kids: tuple[Node, ...] = arg  # type: ignore[assignment]
            return f"{op}({', '.join(self._text(k, leaves, device, now_ns) for k in kids)})"
        i: int = arg  # type: ignore[assignment]
        leaf, s = self.leaves[i], leaves[i]
        who = f"{leaf.label} of {leaf.device or device}"
        if s.last_value is None:
            return f"{who} = ? ({leaf.comparator} {leaf.criteria.threshold:g}: unknown)"
        stale = bool(leaf.max_age_ns) and now_ns - s.last_sample_ns > leaf.max_age_ns
        verdict = "unknown, stale" if stale else "true" if s.state is AlertState.RAISED else "false"
        return f"{who} = {s.last_value:.6g} ({leaf.comparator} {leaf.criteria.threshold:g}: {verdict})"


def _compile(node: Node, leaves: list[Leaf]) -> Truth:
    """Nested closures computing the three-valued truth of ``node`` (built once per rule)."""
    op, arg = node
    if op == "leaf":
        i: int = arg  # type: ignore[assignment]
        age = leaves[i].max_age_ns
        raised = AlertState.RAISED

        def leaf(states: list[DeviceState], now: int) -> bool | None:
            s = states[i]
            if s.last_value is None or (age and now - s.last_sample_ns > age):
                return None
            return s.state is raised

        return leaf
    kids = tuple(_compile(k, leaves) for k in arg)  # type: ignore[union-attr]
    if op == "not":
        (child,) = kids

        def negate(states: list[DeviceState], now: int) -> bool | None:
            v = child(states, now)
            return None if v is None else not v

        return negate
    decisive = op == "any"  # any: one true decides; all: one false decides

    def group(states: list[DeviceState], now: int) -> bool | None:
        unknown = False
        for k in kids:
            v = k(states, now)
            if v is None:
                unknown = True
            elif v is decisive:
                return decisive
        return None if unknown else not decisive

    return group


def _label(src: Source, c: Condition) -> str:
    agg = c.window.aggregate if c.window is not None else "last"
    prefix = "" if agg == "last" else f"{agg} "
    return f"{prefix}{src.kind}" if src.kind == "score" else f"{prefix}{src.kind} {src.name}"
