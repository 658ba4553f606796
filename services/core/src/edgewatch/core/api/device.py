"""core-metadata device routes (/device...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from edgewatch.common.contracts.base import BaseResponse
from edgewatch.common.contracts.device import AddDeviceRequest, Device, UpdateDeviceRequest
from edgewatch.common.contracts.errors import ContractInvalidError, NotFoundError
from edgewatch.common.contracts.responses import DeviceResponse, MultiDevicesResponse, item_created, item_ok
from edgewatch.common.service.paging import page_of, parse_labels, parse_page
from edgewatch.common.service.worker import ParseWorkers
from edgewatch.core.api.body import off_loop_bodies
from edgewatch.core.api.common import json_response, multi_status, parse_bool
from edgewatch.core.metadata.devices import DeviceRegistry

__all__ = ["device_router"]

PREFIX = "/api/v3/device"


def device_router(devices: DeviceRegistry, max_count: Callable[[], int], workers: ParseWorkers) -> APIRouter:
    """Device add / patch / delete and queries; large JSON bodies are validated in a parse worker."""
    r = APIRouter(tags=["device"], route_class=off_loop_bodies(workers))

    def listing(keep: Callable[[Device], bool], offset: str | None, limit: str | None) -> JSONResponse:
        items, total = page_of(devices.all(), parse_page(offset, limit, max_count()), keep)
        return json_response(MultiDevicesResponse(total_count=total, devices=items))

    @r.post(PREFIX, status_code=207)
    async def add_devices(
        reqs: list[AddDeviceRequest],
        force: str | None = None,
        bypassValidation: str | None = None,
    ) -> JSONResponse:
        f, bypass = parse_bool(force, "force"), parse_bool(bypassValidation, "bypassValidation")

        async def one(q: AddDeviceRequest) -> dict[str, Any]:
            return item_created(q.request_id, await devices.add(q.device, force=f, bypass_validation=bypass))

        return await multi_status(reqs, one)

    @r.patch(PREFIX, status_code=207)
    async def patch_devices(reqs: list[UpdateDeviceRequest], bypassValidation: str | None = None) -> JSONResponse:
        bypass = parse_bool(bypassValidation, "bypassValidation")

        async def one(q: UpdateDeviceRequest) -> dict[str, Any]:
            await devices.patch(q.device, bypass_validation=bypass)
            return item_ok(q.request_id)

        return await multi_status(reqs, one)

    @r.get(f"{PREFIX}/all", response_model=MultiDevicesResponse)
    async def all_devices(
        offset: str | None = None,
        limit: str | None = None,
        labels: str | None = None,
        descendantsOf: str | None = None,
        maxLevels: str | None = None,
    ) -> JSONResponse:
        want = set(parse_labels(labels))
        below: set[str] | None = None
        if descendantsOf:
            try:
                levels = int(maxLevels or 0)
            except ValueError:
                raise ContractInvalidError(f"maxLevels {maxLevels!r} is not an integer", field="maxLevels") from None
            devices.store.get(descendantsOf)
            below = devices.descendants(descendantsOf, levels)
        return listing(lambda d: want.issubset(d.labels or []) and (below is None or d.name in below), offset, limit)

    @r.get(f"{PREFIX}/name/{{name}}", response_model=DeviceResponse)
    async def get_device(name: str) -> JSONResponse:
        return json_response(DeviceResponse(device=devices.store.get(name)))

    @r.get(f"{PREFIX}/id/{{id}}", response_model=DeviceResponse)
    async def get_device_by_id(id: str) -> JSONResponse:
        d = devices.store.by_id(id)
        if d is None:
            raise NotFoundError(f"device id {id!r} does not exist", field="id")
        return json_response(DeviceResponse(device=d))

    @r.get(f"{PREFIX}/check/name/{{name}}", response_model=BaseResponse)
    async def check_device(name: str) -> JSONResponse:
        devices.store.get(name)
        return json_response(BaseResponse())

    @r.delete(f"{PREFIX}/name/{{name}}", response_model=BaseResponse)
    async def delete_device(name: str) -> JSONResponse:
        await devices.delete(name)
        return json_response(BaseResponse())

    @r.get(f"{PREFIX}/profile/name/{{name}}", response_model=MultiDevicesResponse)
    async def by_profile(name: str, offset: str | None = None, limit: str | None = None) -> JSONResponse:
        return listing(lambda d: d.profile_name == name, offset, limit)

    @r.get(f"{PREFIX}/service/name/{{name}}", response_model=MultiDevicesResponse)
    async def by_service(name: str, offset: str | None = None, limit: str | None = None) -> JSONResponse:
        return listing(lambda d: d.service_name == name, offset, limit)

    return r
