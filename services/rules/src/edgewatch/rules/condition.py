"""Condition: one comparison, or a small bounded tree of them (``all`` / ``any`` / ``not``), as typed data.

A rule's ``condition`` is either the single comparison it has always been (``comparator``, ``threshold``,
``clearThreshold``; the rule's ``source``, ``window`` and ``debounce`` apply), or a group. Inside a group each
comparison is a *leaf* with its own ``source`` (default: the rule's), ``window``, ``debounce`` (hysteresis is
``clearThreshold``) and ``maxAge`` (older data counts as unknown). Nesting and size are bounded so a rule stays
cheap to evaluate and to read; nothing here is ever evaluated as code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from pydantic.alias_generators import to_camel

__all__ = [
    "MAX_DEPTH",
    "MAX_LEAVES",
    "Aggregate",
    "Comparator",
    "Condition",
    "Debounce",
    "Source",
    "Window",
    "check_depth",
]

Comparator = Literal[">", ">=", "<", "<="]
Aggregate = Literal["last", "mean", "max", "min", "delta", "rate"]
DERIVED: frozenset[str] = frozenset({"delta", "rate"})
MAX_DEPTH = 4  # levels of all / any / not
MAX_LEAVES = 16  # comparisons in one rule
_GROUP_KEYS = ("all", "any", "not")
_LEAF_ONLY = ("clearThreshold", "source", "window", "debounce", "maxAge")


class _Spec(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class Source(_Spec):
    """What a rule (or a leaf) watches."""

    kind: Literal["score", "feature", "reading"] = Field(description="score | feature | reading")
    device: str = Field("*", min_length=1, description="Device name, or * for every device (state kept per device)")
    name: str = Field("", description="Feature name (kind feature) or reading resource name (kind reading)")

    @model_validator(mode="after")
    def _name_matches_kind(self) -> Source:
        if self.kind == "score" and self.name:
            raise ValueError("name: must be empty for kind score")
        if self.kind != "score" and not self.name:
            raise ValueError(f"name: required for kind {self.kind} (the {self.kind} to watch)")
        return self


class Debounce(_Spec):
    """How long the condition must hold before a raise, and how long its absence before a clear."""

    count: int = Field(1, ge=1, le=100_000, description="Consecutive samples meeting the condition")
    seconds: float = Field(0.0, ge=0, description="...and for at least this long (sample time)")
    clear_count: int = Field(1, ge=1, le=100_000, description="Consecutive samples past the clear threshold")


class Window(_Spec):
    """The value compared is derived from the last ``samples`` samples and/or ``seconds`` of samples.

    ``last`` / ``mean`` / ``max`` / ``min`` aggregate the window; ``delta`` is newest minus oldest and ``rate`` is
    that delta per second of sample time (both need two samples). With an explicit ``samples`` count nothing is
    decided until the window holds that many samples.
    """

    aggregate: Aggregate = "last"
    samples: int | None = Field(None, ge=1, le=10_000, description="Default 1, or 10000 when seconds is set")
    seconds: float = Field(0.0, ge=0, le=86_400, description="0 = bounded by samples only")

    @model_validator(mode="after")
    def _derived_needs_two(self) -> Window:
        if self.aggregate in DERIVED and (self.samples or 0) < 2 and self.seconds <= 0:
            raise ValueError(
                f"samples: {self.aggregate} compares the window's oldest and newest samples; "
                "give samples >= 2 or seconds > 0"
            )
        return self

    @property
    def max_samples(self) -> int:
        """The effective sample bound."""
        return self.samples or (10_000 if self.seconds > 0 else 1)

    @property
    def min_samples(self) -> int:
        """Samples needed before the window decides anything."""
        return self.samples or (2 if self.aggregate in DERIVED else 1)


class Condition(_Spec):
    """A comparison (``value <comparator> threshold``, clearing once ``value <comparator> clearThreshold``
    stops holding) or a group: ``all`` / ``any`` of conditions, or ``not`` of one."""

    comparator: Comparator | None = None
    threshold: float | None = None
    clear_threshold: float | None = Field(None, description="Hysteresis: defaults to threshold")
    source: Source | None = Field(None, description="Leaf only: what it watches (default: the rule's source)")
    window: Window | None = Field(None, description="Leaf only: its own window (default: last sample)")
    debounce: Debounce | None = Field(None, description="Leaf only: its own debounce (default: none)")
    max_age: float | None = Field(
        None, gt=0, le=86_400, description="Leaf only: seconds after which its data counts as unknown"
    )
    all_: list[Condition] | None = Field(None, alias="all", min_length=1, max_length=MAX_LEAVES)
    any_: list[Condition] | None = Field(None, alias="any", min_length=1, max_length=MAX_LEAVES)
    not_: Condition | None = Field(None, alias="not")

    @model_validator(mode="after")
    def _one_shape(self) -> Condition:
        groups = [k for k, v in zip(_GROUP_KEYS, (self.all_, self.any_, self.not_), strict=True) if v is not None]
        if len(groups) > 1:
            raise ValueError(f"give one of all / any / not per condition, not {' and '.join(groups)}")
        if groups:
            leafy = [k for k in ("comparator", "threshold", *_LEAF_ONLY) if getattr(self, _attr(k)) is not None]
            if leafy:
                raise ValueError(f"{groups[0]}: a group takes no {', '.join(leafy)} (those belong to its leaves)")
            return self
        if self.comparator is None or self.threshold is None:
            missing = "comparator" if self.comparator is None else "threshold"
            raise ValueError(f"{missing}: required (a comparison needs comparator and threshold; or use all/any/not)")
        c, t = self.clear_threshold, self.threshold
        if c is not None and self.comparator in (">", ">=") and c > t:
            raise ValueError(f"clearThreshold: {c:g} must be <= threshold {t:g} for '{self.comparator}'")
        if c is not None and self.comparator in ("<", "<=") and c < t:
            raise ValueError(f"clearThreshold: {c:g} must be >= threshold {t:g} for '{self.comparator}'")
        return self

    @model_serializer(mode="wrap")
    def _compact(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Stored and listed rules show only what applies: a comparison keeps ``clearThreshold`` (even null)."""
        doc: dict[str, Any] = handler(self)
        keep = ("clearThreshold", "clear_threshold") if self.is_leaf else ()
        return {k: v for k, v in doc.items() if v is not None or k in keep}

    # --- shape ---------------------------------------------------------------------------------------------

    @property
    def is_leaf(self) -> bool:
        """A comparison (not a group)."""
        return self.all_ is None and self.any_ is None and self.not_ is None

    @property
    def op(self) -> Literal["leaf", "all", "any", "not"]:
        """``leaf`` for a comparison, else the group's operator."""
        if self.all_ is not None:
            return "all"
        if self.any_ is not None:
            return "any"
        return "not" if self.not_ is not None else "leaf"

    @property
    def children(self) -> list[Condition]:
        """A group's conditions (empty for a leaf)."""
        if self.not_ is not None:
            return [self.not_]
        return list(self.all_ or self.any_ or [])

    @property
    def clear(self) -> float:
        """The effective clear threshold of a comparison.

        Raises:
            ValueError: a group has none.
        """
        if self.threshold is None:
            raise ValueError("a group has no threshold")
        return self.threshold if self.clear_threshold is None else self.clear_threshold

    def leaves(self) -> Iterator[Condition]:
        """Comparisons in document order (a leaf yields itself)."""
        if self.is_leaf:
            yield self
            return
        for c in self.children:
            yield from c.leaves()

    def has_leaf_options(self) -> list[str]:
        """Leaf-only keys set on this comparison (a single-condition rule takes them at rule level)."""
        return [k for k in _LEAF_ONLY[1:] if getattr(self, _attr(k)) is not None]


def _attr(key: str) -> str:
    return {"clearThreshold": "clear_threshold", "maxAge": "max_age"}.get(key, key)


def check_depth(raw: Any) -> Any:
    """Refuse a raw condition document nested deeper than MAX_DEPTH groups before pydantic builds it.

    Raises:
        ValueError: too deep (the message names the limit).
    """
    level: list[Any] = [raw]
    for depth in range(MAX_DEPTH + 2):
        nxt: list[Any] = []
        for node in level:
            if not isinstance(node, dict):
                continue
            for key in _GROUP_KEYS:
                sub = node.get(key)
                if isinstance(sub, list):
                    nxt.extend(sub[: MAX_LEAVES + 1])
                elif sub is not None:
                    nxt.append(sub)
        if not nxt:
            return raw
        if depth + 1 > MAX_DEPTH:
            raise ValueError(f"condition: all / any / not nested deeper than {MAX_DEPTH} levels")
        level = nxt
    return raw
