"""Rule: a rule as plain data (JSON/YAML), validated into a small typed condition model; never evaluated code.

A rule watches one source (a device's anomaly score, one feature, or one EdgeX reading resource), aggregates
it over a window, compares it with a threshold (with a separate clear threshold for hysteresis), debounces
the raise (consecutive samples and/or a hold time), and on a raise publishes an Alert and sends EdgeX
commands. ``stale`` adds the fail-safe: no sample from a device for that long raises a ``stale`` alert.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from edgewatch.common.contracts import topics

__all__ = [
    "Action",
    "Comparator",
    "Condition",
    "Debounce",
    "Rule",
    "Source",
    "Stale",
    "Window",
    "compare",
]

Comparator = Literal[">", ">=", "<", "<="]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


def compare(value: float, comparator: Comparator, threshold: float) -> bool:
    """``value <comparator> threshold`` (a table lookup; rules never evaluate expressions)."""
    if comparator == ">":
        return value > threshold
    if comparator == ">=":
        return value >= threshold
    if comparator == "<":
        return value < threshold
    return value <= threshold


def _setting_text(v: Any) -> Any:
    """EdgeX SET values are strings; accept JSON scalars and render them as EdgeX does (true, 1.5)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    return v


SettingValue = Annotated[str, BeforeValidator(_setting_text)]


class _Spec(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class Source(_Spec):
    """What a rule watches."""

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


class Condition(_Spec):
    """Raise when ``value <comparator> threshold``; clear when ``value <comparator> clearThreshold`` stops holding."""

    comparator: Comparator
    threshold: float
    clear_threshold: float | None = Field(None, description="Hysteresis: defaults to threshold")

    @model_validator(mode="after")
    def _clear_on_the_safe_side(self) -> Condition:
        c = self.clear_threshold
        if c is None:
            return self
        if self.comparator in (">", ">=") and c > self.threshold:
            raise ValueError(f"clearThreshold: {c:g} must be <= threshold {self.threshold:g} for '{self.comparator}'")
        if self.comparator in ("<", "<=") and c < self.threshold:
            raise ValueError(f"clearThreshold: {c:g} must be >= threshold {self.threshold:g} for '{self.comparator}'")
        return self

    @property
    def clear(self) -> float:
        """The effective clear threshold."""
        return self.threshold if self.clear_threshold is None else self.clear_threshold


class Debounce(_Spec):
    """How long the condition must hold before a raise, and how long its absence before a clear."""

    count: int = Field(1, ge=1, le=100_000, description="Consecutive samples meeting the condition")
    seconds: float = Field(0.0, ge=0, description="...and for at least this long (sample time)")
    clear_count: int = Field(1, ge=1, le=100_000, description="Consecutive samples past the clear threshold")


class Window(_Spec):
    """The value compared is an aggregate of the last ``samples`` samples and/or ``seconds`` of samples.

    With an explicit ``samples`` count nothing is decided until the window holds that many samples.
    """

    aggregate: Literal["last", "mean", "max", "min"] = "last"
    samples: int | None = Field(None, ge=1, le=10_000, description="Default 1, or 10000 when seconds is set")
    seconds: float = Field(0.0, ge=0, description="0 = bounded by samples only")

    @property
    def max_samples(self) -> int:
        """The effective sample bound."""
        return self.samples or (10_000 if self.seconds > 0 else 1)


class Action(_Spec):
    """An EdgeX command SET sent through core-command on a raise."""

    device: str = Field("", description="Target device; empty = the device that raised")
    command: str = Field(min_length=1)
    settings: dict[str, SettingValue] = Field(min_length=1, description="Flat EdgeX SET map (resource -> value)")

    @model_validator(mode="after")
    def _subject_safe(self) -> Action:
        try:
            topics.command_request(self.device or "device", self.command, "set")
        except ValueError as e:
            raise ValueError(str(e)) from None
        return self


class Stale(_Spec):
    """Fail-safe: raise a ``stale`` alert when a device's samples stop for longer than ``seconds``."""

    seconds: float = Field(gt=0)
    severity: str = Field("major", min_length=1)
    actions: list[Action] = Field(default_factory=list, max_length=16)
    arm_on_start: bool = Field(False, description="Count from rule start for a named device (else from 1st sample)")


class Rule(_Spec):
    """One rule; ``name`` is also the last token of its alert subject."""

    name: str
    description: str = ""
    source: Source
    condition: Condition
    debounce: Debounce = Field(default_factory=Debounce)
    window: Window = Field(default_factory=Window)
    severity: str = Field("warning", min_length=1)
    actions: list[Action] = Field(default_factory=list, max_length=16)
    stale: Stale | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"{v!r} must match {_NAME.pattern} (it becomes a bus subject token)")
        return v

    def to_doc(self) -> dict[str, Any]:
        """JSON-able document with camelCase keys (defaults included, so stored rules are explicit)."""
        return self.model_dump(mode="json", by_alias=True)
