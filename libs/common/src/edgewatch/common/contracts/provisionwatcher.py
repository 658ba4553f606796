"""EdgeX provision watcher DTOs (dtos/provisionwatcher.go)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from edgewatch.common.contracts.base import BaseRequest, EdgeXModel, empty
from edgewatch.common.contracts.device import AdminState, AutoEvent

__all__ = [
    "AddProvisionWatcherRequest",
    "DiscoveredDevice",
    "ProvisionWatcher",
    "UpdateProvisionWatcher",
    "UpdateProvisionWatcherRequest",
]


def _none(v: Any) -> bool:
    return v is None


class DiscoveredDevice(EdgeXModel):
    """What a device discovered by the watcher gets."""

    profile_name: str = Field("", exclude_if=empty)
    admin_state: AdminState
    auto_events: list[AutoEvent] | None = Field(None, exclude_if=empty)
    properties: dict[str, Any] | None = Field(None, exclude_if=empty)


class ProvisionWatcher(EdgeXModel):
    """Rules by which a device service adds discovered devices."""

    id: str = Field("", exclude_if=empty)
    name: str = Field(min_length=1)
    service_name: str = Field(min_length=1)
    labels: list[str] | None = Field(None, exclude_if=empty)
    identifiers: dict[str, str] = Field(min_length=1)
    blocking_identifiers: dict[str, list[str]] | None = Field(None, exclude_if=empty)
    admin_state: AdminState
    discovered_device: DiscoveredDevice
    created: int = Field(0, exclude_if=empty)
    modified: int = Field(0, exclude_if=empty)


class AddProvisionWatcherRequest(BaseRequest):
    """``{provisionWatcher}`` of POST /provisionwatcher."""

    provision_watcher: ProvisionWatcher


class UpdateProvisionWatcher(EdgeXModel):
    """PATCH body (pointer semantics); ``id`` or ``name`` identifies the watcher."""

    id: str | None = Field(None, exclude_if=_none)
    name: str | None = Field(None, exclude_if=_none)
    service_name: str | None = Field(None, exclude_if=_none, min_length=1)
    labels: list[str] | None = Field(None, exclude_if=_none)
    identifiers: dict[str, str] | None = Field(None, exclude_if=_none, min_length=1)
    blocking_identifiers: dict[str, list[str]] | None = Field(None, exclude_if=_none)
    admin_state: AdminState | None = Field(None, exclude_if=_none)
    discovered_device: DiscoveredDevice | None = Field(None, exclude_if=_none)

    @model_validator(mode="after")
    def _id_or_name(self) -> UpdateProvisionWatcher:
        if not self.id and not self.name:
            raise ValueError("provisionWatcher: id or name is required")
        return self

    def apply(self, current: ProvisionWatcher) -> ProvisionWatcher:
        """A copy of ``current`` with the fields that this update sets."""
        changes = {k: v for k, v in self if v is not None and k not in ("id", "name")}
        return ProvisionWatcher.model_validate({**current.model_dump(), **changes})


class UpdateProvisionWatcherRequest(BaseRequest):
    """``{provisionWatcher}`` of PATCH /provisionwatcher."""

    provision_watcher: UpdateProvisionWatcher
