"""core-metadata profile part routes: device resources and device commands of a profile."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from edgewatch.common.contracts.base import BaseResponse
from edgewatch.common.contracts.errors import NotFoundError
from edgewatch.common.contracts.profile import (
    AddDeviceCommandRequest,
    AddDeviceResourceRequest,
    DeviceProfileTagsRequest,
    UpdateDeviceCommandRequest,
    UpdateDeviceResourceRequest,
)
from edgewatch.common.contracts.responses import DeviceResourceResponse, item_created, item_ok
from edgewatch.common.service.worker import ParseWorkers
from edgewatch.core.api.body import off_loop_bodies
from edgewatch.core.api.common import json_response, multi_status
from edgewatch.core.metadata.profileparts import ProfileParts

__all__ = ["profile_part_router"]

PREFIX = "/api/v3/deviceprofile"


def profile_part_router(parts: ProfileParts, workers: ParseWorkers) -> APIRouter:
    """Resource and command add / patch / delete, and GET of one resource; large JSON bodies are validated in a
    parse worker."""
    r = APIRouter(tags=["deviceprofile"], route_class=off_loop_bodies(workers))

    @r.post(f"{PREFIX}/resource", status_code=207)
    async def add_resources(reqs: list[AddDeviceResourceRequest]) -> JSONResponse:
        async def one(q: AddDeviceResourceRequest) -> dict[str, Any]:
            await parts.add_resource(q.profile_name, q.resource)
            return item_created(q.request_id, "")

        return await multi_status(reqs, one)

    @r.patch(f"{PREFIX}/resource", status_code=207)
    async def patch_resources(reqs: list[UpdateDeviceResourceRequest]) -> JSONResponse:
        async def one(q: UpdateDeviceResourceRequest) -> dict[str, Any]:
            await parts.patch_resource(q.profile_name, q.resource)
            return item_ok(q.request_id)

        return await multi_status(reqs, one)

    @r.delete(f"{PREFIX}/name/{{name}}/resource/{{resourceName}}", response_model=BaseResponse)
    async def delete_resource(name: str, resourceName: str) -> JSONResponse:
        await parts.delete_resource(name, resourceName)
        return json_response(BaseResponse())

    @r.post(f"{PREFIX}/deviceCommand", status_code=207)
    async def add_commands(reqs: list[AddDeviceCommandRequest]) -> JSONResponse:
        async def one(q: AddDeviceCommandRequest) -> dict[str, Any]:
            await parts.add_command(q.profile_name, q.device_command)
            return item_created(q.request_id, "")

        return await multi_status(reqs, one)

    @r.patch(f"{PREFIX}/deviceCommand", status_code=207)
    async def patch_commands(reqs: list[UpdateDeviceCommandRequest]) -> JSONResponse:
        async def one(q: UpdateDeviceCommandRequest) -> dict[str, Any]:
            await parts.patch_command(q.profile_name, q.device_command)
            return item_ok(q.request_id)

        return await multi_status(reqs, one)

    @r.delete(f"{PREFIX}/name/{{name}}/deviceCommand/{{commandName}}", response_model=BaseResponse)
    async def delete_command(name: str, commandName: str) -> JSONResponse:
        await parts.delete_command(name, commandName)
        return json_response(BaseResponse())

    @r.get(
        "/api/v3/deviceresource/profile/{profileName}/resource/{resourceName}", response_model=DeviceResourceResponse
    )
    async def get_resource(profileName: str, resourceName: str) -> JSONResponse:
        res = parts.profiles.get(profileName).resource(resourceName)
        if res is None:
            raise NotFoundError(f"profile {profileName!r}: deviceResource {resourceName!r} does not exist")
        return json_response(DeviceResourceResponse(resource=res))

    @r.patch(f"{PREFIX}/name/{{name}}/tags", response_model=BaseResponse)
    async def patch_tags(name: str, req: DeviceProfileTagsRequest) -> JSONResponse:
        await parts.patch_tags(name, req)
        return json_response(BaseResponse(request_id=req.request_id))

    return r
