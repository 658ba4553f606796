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

from dataclasses import dataclass
from typing import Literal

from edgewatch.rules.condition import Condition, Source
from edgewatch.rules.rule import Rule
from edgewatch.rules.state import AlertState, Criteria, DeviceState

__all__ = ["CompoundPlan", "Leaf", "Node"]

_NS = 1_000_000_000

# ("leaf", index) | ("all", children) | ("any", children) | ("not", (child,))
Node = tuple[str, tuple["Node", ...] | int]


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
        wild = any(not x.device for x in leaves)
        return cls(tuple(leaves), tree, Criteria.gate(rule.debounce), rule.unknown, wild, leaves[0].device)

    def new_instance(self, shared: list[DeviceState]) -> DeviceState:
        """An instance state whose leaves are its own (``*`` leaves) or the rule's shared ones (named)."""
        return DeviceState(leaves=[shared[x.index] if x.device else DeviceState() for x in self.leaves])

    # --- evaluation -----------------------------------------------------------------------------------------

    def truth(self, leaves: list[DeviceState], now_ns: int) -> bool | None:
        """The tree's value over the instance's leaf states at sample time ``now_ns`` (None = unknown)."""
        return self._eval(self.tree, leaves, now_ns)

    def _eval(self, node: Node, leaves: list[DeviceState], now_ns: int) -> bool | None:
        op, arg = node
        if op == "leaf":
            return self._leaf(arg, leaves, now_ns)  # type: ignore[arg-type]
        kids: tuple[Node, ...] = arg  # type: ignore[assignment]
        if op == "not":
            v = self._eval(kids[0], leaves, now_ns)
            return None if v is None else not v
        unknown = False
        decisive = op == "any"  # any: one true decides; all: one false decides
        for k in kids:
            v = self._eval(k, leaves, now_ns)
            if v is None:
                unknown = True
            elif v is decisive:
                return decisive
        return None if unknown else not decisive

    def _leaf(self, i: int, leaves: list[DeviceState], now_ns: int) -> bool | None:
        s = leaves[i]
        if s.last_value is None:
            return None
        age = self.leaves[i].max_age_ns
        if age and now_ns - s.last_sample_ns > age:
            return None
        return s.state is AlertState.RAISED

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


def _label(src: Source, c: Condition) -> str:
    agg = c.window.aggregate if c.window is not None else "last"
    prefix = "" if agg == "last" else f"{agg} "
    return f"{prefix}{src.kind}" if src.kind == "score" else f"{prefix}{src.kind} {src.name}"
