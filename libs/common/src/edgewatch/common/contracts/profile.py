"""EdgeX device profile DTOs (dtos/deviceprofile.go et al.) with the semantic checks of COMPAT.md section 6."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from edgewatch.common.contracts.base import BaseRequest, EdgeXModel, empty
from edgewatch.common.contracts.valuetype import ValueType

__all__ = [
    "AddDeviceCommandRequest",
    "AddDeviceProfileRequest",
    "AddDeviceResourceRequest",
    "DeviceCommand",
    "DeviceProfile",
    "DeviceProfileBasicInfo",
    "DeviceProfileTagsRequest",
    "DeviceResource",
    "NameTags",
    "ReadWrite",
    "ResourceOperation",
    "ResourceProperties",
    "UpdateDeviceCommand",
    "UpdateDeviceCommandRequest",
    "UpdateDeviceProfileBasicInfoRequest",
    "UpdateDeviceProfileRequest",
    "UpdateDeviceResource",
    "UpdateDeviceResourceRequest",
    "check_profile",
    "readable",
    "writable",
]

ReadWrite = Literal["R", "W", "RW", "WR"]


def _none(v: Any) -> bool:
    return v is None


def readable(rw: str) -> bool:
    """True when a readWrite value allows GET."""
    return "R" in rw


def writable(rw: str) -> bool:
    """True when a readWrite value allows SET."""
    return "W" in rw


class ResourceProperties(EdgeXModel):
    """``properties`` of a device resource; valueType is normalised to EdgeX's spelling."""

    value_type: ValueType
    read_write: ReadWrite
    units: str = Field("", exclude_if=empty)
    minimum: float | None = Field(None, exclude_if=_none)
    maximum: float | None = Field(None, exclude_if=_none)
    default_value: str = Field("", exclude_if=empty)
    mask: int | None = Field(None, exclude_if=_none, ge=0, lt=2**64)
    shift: int | None = Field(None, exclude_if=_none, ge=-(2**63), lt=2**63)
    scale: float | None = Field(None, exclude_if=_none)
    offset: float | None = Field(None, exclude_if=_none)
    base: float | None = Field(None, exclude_if=_none)
    assertion: str = Field("", exclude_if=empty)
    media_type: str = Field("", exclude_if=empty)
    optional: dict[str, Any] | None = Field(None, exclude_if=empty)

    @field_validator("value_type", mode="before")
    @classmethod
    def _vt(cls, v: object) -> object:
        return ValueType.parse(v) if isinstance(v, str) else v


class DeviceResource(EdgeXModel):
    """One readable/writable point of a device."""

    description: str = Field("", exclude_if=empty)
    name: str = Field(min_length=1)
    is_hidden: bool = False
    tags: dict[str, Any] | None = Field(None, exclude_if=empty)
    properties: ResourceProperties
    attributes: dict[str, Any] | None = Field(None, exclude_if=empty)


class ResourceOperation(EdgeXModel):
    """One step of a device command."""

    device_resource: str = Field(min_length=1)
    default_value: str = Field("", exclude_if=empty)
    mappings: dict[str, str] | None = Field(None, exclude_if=empty)


class DeviceCommand(EdgeXModel):
    """A named group of resource operations."""

    name: str = Field(min_length=1)
    is_hidden: bool = False
    read_write: ReadWrite
    resource_operations: list[ResourceOperation] = Field(min_length=1)
    tags: dict[str, Any] | None = Field(None, exclude_if=empty)


class DeviceProfile(EdgeXModel):
    """A device profile; ``id``/``created``/``modified`` are set by core-metadata."""

    id: str = Field("", exclude_if=empty)
    name: str = Field(min_length=1)
    manufacturer: str = Field("", exclude_if=empty)
    description: str = Field("", exclude_if=empty)
    model: str = Field("", exclude_if=empty)
    labels: list[str] | None = Field(None, exclude_if=empty)
    device_resources: list[DeviceResource] = Field(default_factory=list)
    device_commands: list[DeviceCommand] = Field(default_factory=list)
    created: int = Field(0, exclude_if=empty)
    modified: int = Field(0, exclude_if=empty)

    @model_validator(mode="after")
    def _semantics(self) -> DeviceProfile:
        check_profile(self)
        return self

    def resource(self, name: str) -> DeviceResource | None:
        """The resource called ``name``, if any."""
        return next((r for r in self.device_resources if r.name == name), None)

    def command(self, name: str) -> DeviceCommand | None:
        """The device command called ``name``, if any."""
        return next((c for c in self.device_commands if c.name == name), None)


def check_profile(p: DeviceProfile) -> None:
    """COMPAT.md section 6 checks; the message names the profile, the resource or command, and the field.

    Raises:
        ValueError: a rule is broken.
    """
    seen: dict[str, DeviceResource] = {}  # by name: a lookup per resource operation stays O(1)
    for r in p.device_resources:
        if r.name in seen:
            raise ValueError(f"profile {p.name!r}: duplicate deviceResource name {r.name!r}")
        seen[r.name] = r
        if r.properties.value_type is ValueType.BINARY and writable(r.properties.read_write):
            raise ValueError(
                f"profile {p.name!r} resource {r.name!r}: properties.readWrite {r.properties.read_write!r} "
                "is not allowed for valueType Binary (Binary resources are read-only)"
            )
    cmds: set[str] = set()
    for c in p.device_commands:
        if c.name in cmds:
            raise ValueError(f"profile {p.name!r}: duplicate deviceCommand name {c.name!r}")
        cmds.add(c.name)
        for i, op in enumerate(c.resource_operations):
            res = seen.get(op.device_resource)
            if res is None:
                raise ValueError(
                    f"profile {p.name!r} command {c.name!r}: resourceOperations[{i}].deviceResource "
                    f"{op.device_resource!r} is not a deviceResource of the profile"
                )
            rw = res.properties.read_write
            if rw not in ("RW", "WR") and rw != c.read_write:
                raise ValueError(
                    f"profile {p.name!r} command {c.name!r}: readWrite {c.read_write!r} conflicts with "
                    f"resource {res.name!r} properties.readWrite {rw!r}"
                )


class AddDeviceProfileRequest(BaseRequest):
    """``{profile}`` of POST /deviceprofile."""

    profile: DeviceProfile


class UpdateDeviceProfileRequest(BaseRequest):
    """``{profile}`` of PUT /deviceprofile (full replacement, matched by name)."""

    profile: DeviceProfile


class DeviceProfileBasicInfo(EdgeXModel):
    """PATCH basicinfo body and GET basicinfo/all item; absent fields stay unchanged on PATCH."""

    id: str | None = Field(None, exclude_if=empty)
    name: str | None = Field(None, exclude_if=empty)
    manufacturer: str | None = Field(None, exclude_if=_none)
    description: str | None = Field(None, exclude_if=_none)
    model: str | None = Field(None, exclude_if=_none)
    labels: list[str] | None = Field(None, exclude_if=_none)

    @model_validator(mode="after")
    def _id_or_name(self) -> DeviceProfileBasicInfo:
        if not self.id and not self.name:
            raise ValueError("basicinfo: id or name is required")
        return self


class UpdateDeviceProfileBasicInfoRequest(BaseRequest):
    """``{basicinfo}`` of PATCH /deviceprofile/basicinfo."""

    basicinfo: DeviceProfileBasicInfo = Field(validation_alias="basicinfo", serialization_alias="basicinfo")


class AddDeviceResourceRequest(BaseRequest):
    """``{profileName, resource}`` of POST /deviceprofile/resource."""

    profile_name: str = Field(min_length=1)
    resource: DeviceResource


class UpdateDeviceResource(EdgeXModel):
    """PATCH resource: only ``description`` and ``isHidden`` may change."""

    name: str = Field(min_length=1)
    description: str | None = Field(None, exclude_if=_none)
    is_hidden: bool | None = Field(None, exclude_if=_none)


class UpdateDeviceResourceRequest(BaseRequest):
    """``{profileName, resource}`` of PATCH /deviceprofile/resource."""

    profile_name: str = Field(min_length=1)
    resource: UpdateDeviceResource


class AddDeviceCommandRequest(BaseRequest):
    """``{profileName, deviceCommand}`` of POST /deviceprofile/deviceCommand."""

    profile_name: str = Field(min_length=1)
    device_command: DeviceCommand


class UpdateDeviceCommand(EdgeXModel):
    """PATCH deviceCommand: only ``isHidden`` may change."""

    name: str = Field(min_length=1)
    is_hidden: bool | None = Field(None, exclude_if=_none)


class UpdateDeviceCommandRequest(BaseRequest):
    """``{profileName, deviceCommand}`` of PATCH /deviceprofile/deviceCommand."""

    profile_name: str = Field(min_length=1)
    device_command: UpdateDeviceCommand


class NameTags(EdgeXModel):
    """``{name, tags}``: tags to add or update on one resource or command."""

    name: str = Field(min_length=1)
    tags: dict[str, Any] = Field(default_factory=dict)


class DeviceProfileTagsRequest(BaseRequest):
    """PATCH /deviceprofile/name/{name}/tags (4.0): merge tags into resources and commands (no removal)."""

    device_resources: list[NameTags] = Field(default_factory=list)
    device_commands: list[NameTags] = Field(default_factory=list)
