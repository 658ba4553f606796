"""EdgeX SystemEvent (dtos/systemevent.go): what core-metadata publishes on every add, update and delete."""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import Field

from edgewatch.common.contracts.base import API_VERSION, EdgeXModel, empty

__all__ = ["SystemEvent", "SystemEventAction", "SystemEventType", "new_system_event"]

SystemEventType = Literal["device", "deviceprofile", "deviceservice", "provisionwatcher"]
SystemEventAction = Literal["add", "update", "delete", "discovery", "profilescan"]


class SystemEvent(EdgeXModel):
    """``{apiVersion, type, action, source, owner, tags, details, timestamp(ns)}``; details holds the DTO."""

    api_version: str = API_VERSION
    type: str
    action: str
    source: str
    owner: str
    tags: dict[str, str] | None = Field(None, exclude_if=empty)
    details: Any = None
    timestamp: int = 0


def new_system_event(type_: SystemEventType, action: SystemEventAction, owner: str, details: Any) -> SystemEvent:
    """A system event stamped now; ``details`` is the entity's JSON dict."""
    return SystemEvent(
        type=type_, action=action, source="core-metadata", owner=owner, details=details, timestamp=time.time_ns()
    )
