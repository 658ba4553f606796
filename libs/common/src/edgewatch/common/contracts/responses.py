"""Single- and multi-entity metadata responses, and the 207 multi-status helpers of EdgeX's bulk endpoints."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from edgewatch.common.contracts.base import BaseResponse, BaseWithIdResponse, BaseWithTotalCountResponse
from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.deviceservice import DeviceService
from edgewatch.common.contracts.errors import EdgeXError
from edgewatch.common.contracts.profile import DeviceProfile, DeviceProfileBasicInfo, DeviceResource
from edgewatch.common.contracts.provisionwatcher import ProvisionWatcher

__all__ = [
    "DeviceProfileResponse",
    "DeviceResourceResponse",
    "DeviceResponse",
    "DeviceServiceResponse",
    "MultiDeviceProfileBasicInfoResponse",
    "MultiDeviceProfilesResponse",
    "MultiDeviceServicesResponse",
    "MultiDevicesResponse",
    "MultiProvisionWatchersResponse",
    "ProfileWithCount",
    "ProvisionWatcherResponse",
    "item_created",
    "item_error",
    "item_ok",
]


class ProfileWithCount(DeviceProfile):
    """A profile as listed: adds ``linkedDeviceCount`` (number of devices using it)."""

    linked_device_count: int = 0


class DeviceProfileResponse(BaseResponse):
    """``{profile}``."""

    profile: DeviceProfile


class MultiDeviceProfilesResponse(BaseWithTotalCountResponse):
    """``{totalCount, profiles}``."""

    profiles: list[ProfileWithCount] = Field(default_factory=list)


class MultiDeviceProfileBasicInfoResponse(BaseWithTotalCountResponse):
    """``{totalCount, profiles}`` of basic info."""

    profiles: list[DeviceProfileBasicInfo] = Field(default_factory=list)


class DeviceResourceResponse(BaseResponse):
    """``{resource}``."""

    resource: DeviceResource


class DeviceResponse(BaseResponse):
    """``{device}``."""

    device: Device


class MultiDevicesResponse(BaseWithTotalCountResponse):
    """``{totalCount, devices}``."""

    devices: list[Device] = Field(default_factory=list)


class DeviceServiceResponse(BaseResponse):
    """``{service}``."""

    service: DeviceService


class MultiDeviceServicesResponse(BaseWithTotalCountResponse):
    """``{totalCount, services}``."""

    services: list[DeviceService] = Field(default_factory=list)


class ProvisionWatcherResponse(BaseResponse):
    """``{provisionWatcher}``."""

    provision_watcher: ProvisionWatcher


class MultiProvisionWatchersResponse(BaseWithTotalCountResponse):
    """``{totalCount, provisionWatchers}``."""

    provision_watchers: list[ProvisionWatcher] = Field(default_factory=list)


def item_created(request_id: str, id_: str) -> dict[str, Any]:
    """A 207 item for a successful add: ``{apiVersion, requestId?, statusCode:201, id}``."""
    return BaseWithIdResponse(request_id=request_id, status_code=201, id=id_).to_dict()


def item_ok(request_id: str) -> dict[str, Any]:
    """A 207 item for a successful update: ``{apiVersion, requestId?, statusCode:200}``."""
    return BaseResponse(request_id=request_id, status_code=200).to_dict()


def item_error(request_id: str, err: EdgeXError) -> dict[str, Any]:
    """A 207 item for a failed element: ``{apiVersion, requestId?, message, statusCode}``."""
    return BaseResponse(request_id=request_id, status_code=err.status, message=err.message).to_dict()
