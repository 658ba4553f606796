"""EdgeX device DTOs (dtos/device.go): Device, AutoEvent, add/update requests with pointer semantics."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from edgewatch.common.contracts.base import BaseRequest, EdgeXModel, empty

__all__ = [
    "AddDeviceRequest",
    "AdminState",
    "AutoEvent",
    "Device",
    "OperatingState",
    "UpdateDevice",
    "UpdateDeviceRequest",
    "parse_go_duration",
]

AdminState = Literal["LOCKED", "UNLOCKED"]
OperatingState = Literal["UP", "DOWN", "UNKNOWN"]
MIN_INTERVAL_NS = 1_000_000

_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_go_duration(text: str) -> int:
    """Nanoseconds of a Go duration string.

    Raises:
        ValueError: not a Go duration.
    """
    s = text.strip()
    sign = 1
    if s[:1] in "+-" and s:
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise ValueError(f"{text!r} is not a Go duration (e.g. 10s, 500ms, 1m30s)")
    pos, total = 0, 0.0
    while pos < len(s):
        m = _PART.match(s, pos)
        if m is None:
            raise ValueError(f"{text!r} is not a Go duration (e.g. 10s, 500ms, 1m30s)")
        total += float(m.group(1)) * _UNIT_NS[m.group(2)]
        pos = m.end()
    return sign * int(total)


def _none(v: Any) -> bool:
    return v is None


class AutoEvent(EdgeXModel):
    """Periodic read of a resource, command or resource regex; ``interval`` is a Go duration (min 1ms)."""

    interval: str
    on_change: bool = False
    on_change_threshold: float | None = Field(None, exclude_if=_none)
    source_name: str = Field(min_length=1)
    retention: dict[str, Any] | None = Field(None, exclude_if=empty)

    @field_validator("interval")
    @classmethod
    def _interval(cls, v: str) -> str:
        ns = parse_go_duration(v)
        if ns < MIN_INTERVAL_NS:
            raise ValueError(f"interval {v!r} is shorter than the minimum 1ms")
        return v

    @property
    def interval_seconds(self) -> float:
        """The interval in seconds."""
        return parse_go_duration(self.interval) / 1e9


class Device(EdgeXModel):
    """A device: which service drives it, with which profile, and how to reach it (``protocols``)."""

    id: str = Field("", exclude_if=empty)
    name: str = Field(min_length=1)
    parent: str = Field("", exclude_if=empty)
    description: str = Field("", exclude_if=empty)
    admin_state: AdminState
    operating_state: OperatingState
    labels: list[str] | None = Field(None, exclude_if=empty)
    location: Any = Field(None, exclude_if=empty)
    service_name: str = Field(min_length=1)
    profile_name: str = Field("", exclude_if=empty)
    auto_events: list[AutoEvent] | None = Field(None, exclude_if=empty)
    protocols: dict[str, dict[str, Any]]
    tags: dict[str, Any] | None = Field(None, exclude_if=empty)
    properties: dict[str, Any] | None = Field(None, exclude_if=empty)
    created: int = Field(0, exclude_if=empty)
    modified: int = Field(0, exclude_if=empty)


class AddDeviceRequest(BaseRequest):
    """``{device}`` of POST /device."""

    device: Device


class UpdateDevice(EdgeXModel):
    """PATCH body: every field optional (absent = unchanged); ``id`` or ``name`` identifies the device."""

    id: str | None = Field(None, exclude_if=_none)
    name: str | None = Field(None, exclude_if=_none)
    parent: str | None = Field(None, exclude_if=_none)
    description: str | None = Field(None, exclude_if=_none)
    admin_state: AdminState | None = Field(None, exclude_if=_none)
    operating_state: OperatingState | None = Field(None, exclude_if=_none)
    labels: list[str] | None = Field(None, exclude_if=_none)
    location: Any = Field(None, exclude_if=_none)
    service_name: str | None = Field(None, exclude_if=_none, min_length=1)
    profile_name: str | None = Field(None, exclude_if=_none)
    auto_events: list[AutoEvent] | None = Field(None, exclude_if=_none)
    protocols: dict[str, dict[str, Any]] | None = Field(None, exclude_if=_none)
    tags: dict[str, Any] | None = Field(None, exclude_if=_none)
    properties: dict[str, Any] | None = Field(None, exclude_if=_none)

    @model_validator(mode="after")
    def _id_or_name(self) -> UpdateDevice:
        if not self.id and not self.name:
            raise ValueError("device: id or name is required")
        return self

    def apply(self, current: Device) -> Device:
        """A copy of ``current`` with the fields that this update sets."""
        changes = {k: v for k, v in self if v is not None and k not in ("id", "name")}
        if self.name and current.name != self.name and self.id:
            changes["name"] = self.name
        return Device.model_validate({**current.model_dump(), **changes})


class UpdateDeviceRequest(BaseRequest):
    """``{device}`` of PATCH /device."""

    device: UpdateDevice
