"""Dry run: a rule against recorded samples, giving the alerts and actions it would have produced; nothing acts.

The rule runs in a fresh engine of its own (a stored rule's live state is not touched) and decides exactly as the
live engine does, because decisions depend only on the samples and their times. Samples are taken in the order
given (a request's list), or, fetched for a time range, in sample-time order, which for one device is the order
the live service saw them. The stale fail-safe is replayed on sample time: a gap longer than ``stale.seconds``
raises a ``stale`` alert at the next sample, valued at the gap (live raises it within
``Rules.StaleCheckInterval`` of the limit, so stale alerts are the one thing a dry run only approximates).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from edgewatch.rules.engine import Decision, RuleEngine
from edgewatch.rules.rule import Rule
from edgewatch.rules.samples import Sample
from edgewatch.rules.state import AlertState

__all__ = ["DryRunRange", "DryRunRequest", "dry_run"]

MAX_GIVEN_SAMPLES = 100_000


class _Spec(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class DryRunRange(_Spec):
    """Recorded samples to read: EdgeX events from core-data, or events, scores and features from the receiver."""

    source: Literal["core-data", "receiver"] = "core-data"
    start: int = Field(ge=0, description="From this sample time, ns (inclusive)")
    end: int = Field(gt=0, description="To this sample time, ns (inclusive)")

    @model_validator(mode="after")
    def _ordered(self) -> DryRunRange:
        if self.end < self.start:
            raise ValueError(f"end: {self.end} is before start {self.start}")
        return self


class DryRunRequest(_Spec):
    """``POST /api/v3/rule/dryrun``: a rule (stored by ``name``, or given) and samples (given, or a ``range``)."""

    name: str = Field("", description="A stored rule")
    rule: Rule | None = Field(None, description="A rule given in full (need not be stored)")
    samples: list[Sample] | None = Field(None, max_length=MAX_GIVEN_SAMPLES, description="Taken in this order")
    range: DryRunRange | None = None

    @model_validator(mode="after")
    def _one_of_each(self) -> DryRunRequest:
        if bool(self.name) == (self.rule is not None):
            raise ValueError("name: give a stored rule's name or a rule, not both or neither")
        if (self.samples is None) == (self.range is None):
            raise ValueError("samples: give samples or a range, not both or neither")
        return self


def dry_run(rule: Rule, samples: list[Sample]) -> dict[str, Any]:
    """Run ``rule`` over ``samples``; returns ``{rule, samples, alerts, actions}`` (JSON-able, camelCase).

    Each alert carries ``t`` (the deciding sample's time) and the ``actions`` the raise would have sent (empty
    inside the cooldown, with the reason in its message); ``actions`` lists them all in order.
    """
    clock = [samples[0].t / 1e9 if samples else 0.0]  # the rule starts at the first sample (stale.armOnStart)
    engine = RuleEngine(clock=lambda: clock[0])
    engine.add(rule)
    alerts: list[dict[str, Any]] = []
    for s in samples:
        clock[0] = s.t / 1e9
        decisions = engine.check_stale() if rule.stale is not None else []
        decisions += engine.on_sample(s.kind, s.device, s.name, s.value, s.t)
        alerts.extend(_alert_doc(d, s.t) for d in decisions)
    actions = [{"t": a["t"], "alert": a["id"], **x} for a in alerts for x in a["actions"]]
    return {"rule": rule.name, "samples": len(samples), "alerts": alerts, "actions": actions}


def _alert_doc(d: Decision, t: int) -> dict[str, Any]:
    raised = d.state is AlertState.RAISED
    specs = []
    if raised and d.act:
        specs = d.rule.actions if d.kind == "threshold" else (d.rule.stale.actions if d.rule.stale else [])
    stale = d.kind == "stale" and d.rule.stale is not None
    return {
        "id": d.alert_id,
        "incident": d.incident,
        "rule": d.rule.name,
        "device": d.device,
        "kind": d.kind,
        "severity": d.rule.stale.severity if stale and d.rule.stale else d.rule.severity,
        "state": "raised" if raised else "cleared",
        "value": d.value,
        "threshold": d.threshold,
        "message": d.message,
        "t": d.t_ns or t,
        "actions": [
            {
                "device": a.device or d.device,
                "command": a.command,
                "settings": dict(a.settings),
                "delay": a.delay,
                "confirm": a.confirm is not None,
            }
            for a in specs
        ],
    }
