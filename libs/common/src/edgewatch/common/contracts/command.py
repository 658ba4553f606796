"""core-command DTOs (dtos/corecommand.go): the commands a device offers over core-command."""

from __future__ import annotations

from pydantic import Field

from edgewatch.common.contracts.base import BaseResponse, BaseWithTotalCountResponse, EdgeXModel, empty

__all__ = [
    "CoreCommand",
    "CoreCommandParameter",
    "DeviceCoreCommand",
    "DeviceCoreCommandResponse",
    "MultiDeviceCoreCommandsResponse",
]


class CoreCommandParameter(EdgeXModel):
    """One resource a command reads or writes."""

    resource_name: str
    value_type: str


class CoreCommand(EdgeXModel):
    """``{name, get, set, path, url, parameters}``."""

    name: str
    get: bool = Field(False, exclude_if=empty)
    set: bool = Field(False, exclude_if=empty)
    path: str = ""
    url: str = ""
    parameters: list[CoreCommandParameter] = Field(default_factory=list, exclude_if=empty)


class DeviceCoreCommand(EdgeXModel):
    """``{deviceName, profileName, coreCommands}``."""

    device_name: str
    profile_name: str
    core_commands: list[CoreCommand] = Field(default_factory=list, exclude_if=empty)


class DeviceCoreCommandResponse(BaseResponse):
    """``{deviceCoreCommand}``."""

    device_core_command: DeviceCoreCommand


class MultiDeviceCoreCommandsResponse(BaseWithTotalCountResponse):
    """``{totalCount, deviceCoreCommands}``."""

    device_core_commands: list[DeviceCoreCommand] = Field(default_factory=list)
