"""Rule: a rule as plain data (JSON/YAML), validated into a small typed model; never evaluated code.

A rule watches one source (a device's anomaly score, one feature, or one EdgeX reading resource), derives a
value over a window, compares it with a threshold (with a separate clear threshold for hysteresis), debounces
the raise (consecutive samples and/or a hold time), and on a raise publishes an Alert and sends EdgeX
commands. A compound rule's ``condition`` is a bounded ``all`` / ``any`` / ``not`` tree of such comparisons
(``condition.py``), possibly on several devices; ``unknown`` says what stale or missing data means.
``cooldown`` keeps a rule from acting again too soon; actions run in order, each after an optional delay and
with an optional read-back confirmation. ``stale`` adds the fail-safe: no sample from a device for that long
raises a ``stale`` alert.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from edgewatch.common.contracts import topics
from edgewatch.rules.condition import (
    MAX_LEAVES,
    Comparator,
    Condition,
    Debounce,
    Source,
    Window,
    check_depth,
)

__all__ = [
    "Action",
    "Comparator",
    "Condition",
    "Confirm",
    "Cooldown",
    "Debounce",
    "Rule",
    "Source",
    "Stale",
    "UnknownPolicy",
    "Window",
    "compare",
]

UnknownPolicy = Literal["hold", "raise", "clear"]
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


class Confirm(_Spec):
    """Read the resource back through core-command (GET) after the SET and compare it with what was meant."""

    resource: str = Field("", description="Resource to read back (default: the only resource in settings)")
    command: str = Field("", description="GET command to read it with (default: the resource)")
    value: SettingValue | None = Field(None, description="Expected value (default: the value written)")
    tolerance: float = Field(0.0, ge=0, description="Numeric values match within this absolute difference")
    within: float = Field(0.0, ge=0, le=600, description="Keep re-reading this many seconds until it matches")
    interval: float = Field(0.2, gt=0, le=60, description="Seconds between read-backs while waiting")


class Action(_Spec):
    """An EdgeX command SET sent through core-command on a raise, after ``delay`` seconds, then confirmed."""

    device: str = Field("", description="Target device; empty = the device that raised")
    command: str = Field(min_length=1)
    settings: dict[str, SettingValue] = Field(min_length=1, description="Flat EdgeX SET map (resource -> value)")
    delay: float = Field(0.0, ge=0, le=3600, description="Seconds to wait before this action (after the previous)")
    confirm: Confirm | None = Field(None, description="Read back and compare; a mismatch fails the action")

    @model_validator(mode="after")
    def _subject_safe(self) -> Action:
        try:
            topics.command_request(self.device or "device", self.command, "set")
            if self.confirm is not None:
                topics.command_request(self.device or "device", self.confirm_command, "get")
        except ValueError as e:
            raise ValueError(str(e)) from None
        if self.confirm is not None:
            if not self.confirm.resource and len(self.settings) != 1:
                raise ValueError("confirm.resource: required when settings name several resources")
            if self.confirm.value is None and self.confirm_resource not in self.settings:
                raise ValueError(f"confirm.value: required ({self.confirm_resource!r} is not one of the settings)")
        return self

    @property
    def confirm_resource(self) -> str:
        """The resource read back."""
        if self.confirm is not None and self.confirm.resource:
            return self.confirm.resource
        return next(iter(self.settings))

    @property
    def confirm_command(self) -> str:
        """The GET command that reads it."""
        return (self.confirm.command if self.confirm is not None else "") or self.confirm_resource

    @property
    def confirm_value(self) -> str:
        """The value the read-back must show."""
        if self.confirm is not None and self.confirm.value is not None:
            return self.confirm.value
        return self.settings[self.confirm_resource]


class Cooldown(_Spec):
    """After a raise that acted, later raises of the same device publish alerts but send no commands for a while."""

    seconds: float = Field(gt=0, le=7 * 86_400, description="Sample time after an acting raise without actions")


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
    source: Source | None = Field(None, description="Required for a single condition; leaves' default otherwise")
    condition: Annotated[Condition, BeforeValidator(check_depth)]
    debounce: Debounce = Field(default_factory=Debounce)
    window: Window = Field(default_factory=Window)
    unknown: UnknownPolicy = Field("hold", description="Compound: what stale or missing leaf data means")
    cooldown: Cooldown | None = None
    severity: str = Field("warning", min_length=1)
    actions: list[Action] = Field(default_factory=list, max_length=16)
    on_action_failure: Literal["continue", "stop"] = Field(
        "continue", description="stop: a failed action (or confirmation) skips the actions after it"
    )
    stale: Stale | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"{v!r} must match {_NAME.pattern} (it becomes a bus subject token)")
        return v

    @model_validator(mode="after")
    def _shape(self) -> Rule:
        if self.condition.is_leaf:
            if self.source is None:
                raise ValueError("source: required for a single condition")
            extra = self.condition.has_leaf_options()
            if extra:
                raise ValueError(
                    f"condition.{extra[0]}: a single condition uses the rule's source/window/debounce; "
                    "leaf options belong to comparisons under all / any / not"
                )
            return self
        if self.window != Window():
            raise ValueError("window: a compound condition has no rule window; give each leaf its own")
        leaves = list(self.condition.leaves())
        if len(leaves) > MAX_LEAVES:
            raise ValueError(f"condition: {len(leaves)} comparisons; at most {MAX_LEAVES} per rule")
        for i, leaf in enumerate(leaves):
            if leaf.source is None and self.source is None:
                raise ValueError(f"condition: comparison #{i} has no source and the rule has none to lend it")
        return self

    @property
    def compound(self) -> bool:
        """True when the condition is an all / any / not tree."""
        return not self.condition.is_leaf

    def to_doc(self) -> dict[str, Any]:
        """JSON-able document with camelCase keys (defaults included, so stored rules are explicit)."""
        return self.model_dump(mode="json", by_alias=True)
