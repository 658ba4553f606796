"""EdgeX Event DTO (dtos.Event) and the event/reading request and response envelopes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any, Self

from pydantic import ConfigDict, Field, model_validator

from edgewatch.common.contracts.base import (
    API_VERSION,
    BaseRequest,
    BaseResponse,
    BaseWithTotalCountResponse,
    EdgeXModel,
    empty,
)
from edgewatch.common.contracts.pydanticadapter import construct
from edgewatch.common.contracts.reading import Reading
from edgewatch.common.contracts.values import ValueFormatError

__all__ = [
    "AddEventRequest",
    "Event",
    "EventResponse",
    "MultiEventsResponse",
    "MultiReadingsResponse",
    "Reading",
    "ReadingResponse",
    "new_event",
]

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class Event(EdgeXModel):
    """An EdgeX event: id (UUID), device/profile/source names, origin (ns), one or more readings, optional tags.

    Decoding refills the reading fields that ``EDGEX_OPTIMIZE_EVENT_PAYLOAD`` strips (id aside): deviceName,
    profileName, origin, and resourceName of a single reading. Unknown top-level keys are kept (extensions).
    """

    model_config = ConfigDict(extra="allow")

    api_version: str = API_VERSION
    id: str = Field(pattern=UUID_PATTERN)
    device_name: str = Field(min_length=1)
    profile_name: str = Field(min_length=1)
    source_name: str = Field(min_length=1)
    origin: int = Field(gt=0)
    readings: list[Reading] = Field(min_length=1)
    tags: dict[str, Any] = Field(default_factory=dict, exclude_if=empty)

    @model_validator(mode="after")
    def _refill_readings(self) -> Self:
        single = len(self.readings) == 1
        for i, reading in enumerate(self.readings):
            d = reading.__dict__
            if not d["device_name"]:
                d["device_name"] = self.device_name
            if not d["profile_name"]:
                d["profile_name"] = self.profile_name
            if not d["origin"]:
                d["origin"] = self.origin
            if not d["resource_name"]:
                if not single:
                    raise ValueError(f"readings[{i}].resourceName is required")
                d["resource_name"] = self.source_name
        return self

    def typed_values(self) -> dict[str, Any]:
        """``{resourceName: typed value}`` of all readings (later readings of the same resource win)."""
        return {r.resource_name: r.typed_value() for r in self.readings}

    def to_numeric(self) -> Event:
        """A copy rendered as core-data's ``?numeric=true``."""
        return self.model_copy(update={"readings": [r.to_numeric() for r in self.readings]})

    def optimized(self) -> Event:
        """A copy with the repeated reading fields stripped as ``EDGEX_OPTIMIZE_EVENT_PAYLOAD=true`` does."""
        single = len(self.readings) == 1
        readings = []
        for r in self.readings:
            update: dict[str, Any] = {"id": "", "device_name": "", "profile_name": ""}
            if r.origin == self.origin:
                update["origin"] = 0
            if single and r.resource_name == self.source_name:
                update["resource_name"] = ""
            readings.append(r.model_copy(update=update))
        return self.model_copy(update={"readings": readings})


def new_event(
    device: str,
    profile: str,
    source: str,
    readings: Iterable[Reading],
    *,
    origin: int | None = None,
    tags: dict[str, Any] | None = None,
    id: str | None = None,
) -> Event:
    """A new Event (``dtos.NewEvent``) with a fresh UUID and ``origin`` now in ns unless given.

    Raises:
        ValueError: no readings.
    """
    items = list(readings)
    if not items:
        raise ValueFormatError("an event needs at least one reading", field="readings")
    fields = {
        "api_version": API_VERSION,
        "id": str(uuid.uuid4()) if id is None else id,
        "device_name": device,
        "profile_name": profile,
        "source_name": source,
        "origin": time.time_ns() if origin is None else origin,
        "readings": items,
        "tags": tags if tags is not None else {},
    }
    return construct(Event, fields, None)


class AddEventRequest(BaseRequest):
    """``{apiVersion, requestId, event}``: the core-data POST body and the bus payload of device events."""

    event: Event

    @classmethod
    def of(cls, event: Event, request_id: str | None = None) -> AddEventRequest:
        """Wrap an event with a fresh request id (as the Go SDK does)."""
        rid = str(uuid.uuid4()) if request_id is None else request_id
        return construct(cls, {"api_version": API_VERSION, "request_id": rid, "event": event}, None)


class EventResponse(BaseResponse):
    """``{apiVersion, statusCode, event}`` (GET /event/id and command GET responses)."""

    event: Event


class MultiEventsResponse(BaseWithTotalCountResponse):
    """``{apiVersion, statusCode, totalCount, events}``."""

    events: list[Event] = Field(default_factory=list)


class ReadingResponse(BaseResponse):
    """``{apiVersion, statusCode, reading}``."""

    reading: Reading


class MultiReadingsResponse(BaseWithTotalCountResponse):
    """``{apiVersion, statusCode, totalCount, readings}``; ``aggregateFunc`` is set on aggregate queries (4.0+)."""

    aggregate_func: str = Field("", exclude_if=empty)
    readings: list[Reading] = Field(default_factory=list)
