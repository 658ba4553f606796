"""EdgeX device service DTOs (dtos/deviceservice.go)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from pydantic import Field, field_validator, model_validator

from edgewatch.common.contracts.base import BaseRequest, EdgeXModel, empty
from edgewatch.common.contracts.device import AdminState

__all__ = ["AddDeviceServiceRequest", "DeviceService", "UpdateDeviceService", "UpdateDeviceServiceRequest"]


def _none(v: Any) -> bool:
    return v is None


def _uri(v: str) -> str:
    u = urlparse(v)
    if not u.scheme or not u.netloc:
        raise ValueError(f"baseAddress {v!r} is not a URI (e.g. http://localhost:59900)")
    return v


class DeviceService(EdgeXModel):
    """A registered device service: where it listens and whether it is LOCKED."""

    id: str = Field("", exclude_if=empty)
    name: str = Field(min_length=1)
    description: str = Field("", exclude_if=empty)
    labels: list[str] | None = Field(None, exclude_if=empty)
    base_address: str
    admin_state: AdminState
    properties: dict[str, Any] | None = Field(None, exclude_if=empty)
    created: int = Field(0, exclude_if=empty)
    modified: int = Field(0, exclude_if=empty)

    @field_validator("base_address")
    @classmethod
    def _base(cls, v: str) -> str:
        return _uri(v)


class AddDeviceServiceRequest(BaseRequest):
    """``{service}`` of POST /deviceservice."""

    service: DeviceService


class UpdateDeviceService(EdgeXModel):
    """PATCH body (pointer semantics); ``id`` or ``name`` identifies the service."""

    id: str | None = Field(None, exclude_if=_none)
    name: str | None = Field(None, exclude_if=_none)
    description: str | None = Field(None, exclude_if=_none)
    labels: list[str] | None = Field(None, exclude_if=_none)
    base_address: str | None = Field(None, exclude_if=_none)
    admin_state: AdminState | None = Field(None, exclude_if=_none)
    properties: dict[str, Any] | None = Field(None, exclude_if=_none)

    @field_validator("base_address")
    @classmethod
    def _base(cls, v: str | None) -> str | None:
        return None if v is None else _uri(v)

    @model_validator(mode="after")
    def _id_or_name(self) -> UpdateDeviceService:
        if not self.id and not self.name:
            raise ValueError("service: id or name is required")
        return self

    def apply(self, current: DeviceService) -> DeviceService:
        """A copy of ``current`` with the fields that this update sets."""
        changes = {k: v for k, v in self if v is not None and k not in ("id", "name")}
        return DeviceService.model_validate({**current.model_dump(), **changes})


class UpdateDeviceServiceRequest(BaseRequest):
    """``{service}`` of PATCH /deviceservice."""

    service: UpdateDeviceService
