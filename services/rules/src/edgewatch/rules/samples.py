"""Samples: what a rule sees (kind, device, name, value, sample time), taken from the messages that carry them.

Live messaging and the dry run take samples out of EdgeX events, Scores and FeatureVectors through these
functions, so both see the same values at the same times.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from edgewatch.common.contracts.event import Event
from edgewatch.common.contracts.values import is_number
from edgewatch.common.contracts.valuetype import ValueType

__all__ = ["Sample", "SourceKind", "event_readings"]

SourceKind = Literal["score", "feature", "reading"]


class Sample(BaseModel):
    """One sample a rule can evaluate (the dry run's input item)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: SourceKind
    device: str = Field(min_length=1)
    name: str = Field("", description="Feature or reading resource name (empty for a score)")
    value: float
    t: int = Field(ge=0, description="Sample time, ns (reading origin, or a score's / vector's window end)")


def event_readings(event: Event, wanted: Collection[str]) -> Iterator[tuple[str, float, int]]:
    """``(resource, value, time)`` of each numeric or Bool reading of ``event`` named in ``wanted`` (Bool -> 0/1).

    Null, binary, object and array readings are skipped; a reading's own origin wins over the event's.
    """
    for r in event.readings:
        if r.resource_name not in wanted:
            continue
        if r.is_null or not (r.value_type.is_numeric or r.value_type is ValueType.BOOL):
            continue
        value = r.typed_value()
        if not is_number(value):
            continue  # arrays
        yield r.resource_name, float(value), r.origin or event.origin
