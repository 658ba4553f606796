"""core-metadata device service and provision watcher routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from edgewatch.common.contracts.base import BaseResponse
from edgewatch.common.contracts.deviceservice import AddDeviceServiceRequest, UpdateDeviceServiceRequest
from edgewatch.common.contracts.provisionwatcher import (
    AddProvisionWatcherRequest,
    ProvisionWatcher,
    UpdateProvisionWatcherRequest,
)
from edgewatch.common.contracts.responses import (
    DeviceServiceResponse,
    MultiDeviceServicesResponse,
    MultiProvisionWatchersResponse,
    ProvisionWatcherResponse,
    item_created,
    item_ok,
)
from edgewatch.common.service.paging import page_of, parse_labels, parse_page
from edgewatch.common.service.worker import ParseWorkers
from edgewatch.core.api.body import off_loop_bodies
from edgewatch.core.api.common import json_response, multi_status
from edgewatch.core.metadata.services import ServiceRegistry, WatcherRegistry

__all__ = ["service_router", "watcher_router"]


def service_router(services: ServiceRegistry, max_count: Callable[[], int], workers: ParseWorkers) -> APIRouter:
    """Device service routes (/deviceservice...); large JSON bodies are validated in a parse worker."""
    r = APIRouter(tags=["deviceservice"], route_class=off_loop_bodies(workers))
    prefix = "/api/v3/deviceservice"

    @r.post(prefix, status_code=207)
    async def add_services(reqs: list[AddDeviceServiceRequest]) -> JSONResponse:
        async def one(q: AddDeviceServiceRequest) -> dict[str, Any]:
            return item_created(q.request_id, await services.add(q.service))

        return await multi_status(reqs, one)

    @r.patch(prefix, status_code=207)
    async def patch_services(reqs: list[UpdateDeviceServiceRequest]) -> JSONResponse:
        async def one(q: UpdateDeviceServiceRequest) -> dict[str, Any]:
            await services.patch(q.service)
            return item_ok(q.request_id)

        return await multi_status(reqs, one)

    @r.get(f"{prefix}/all", response_model=MultiDeviceServicesResponse)
    async def all_services(
        offset: str | None = None, limit: str | None = None, labels: str | None = None
    ) -> JSONResponse:
        want = set(parse_labels(labels))
        page = parse_page(offset, limit, max_count())
        items, total = page_of(services.all(), page, lambda s: want.issubset(s.labels or []))
        return json_response(MultiDeviceServicesResponse(total_count=total, services=items))

    @r.get(f"{prefix}/name/{{name}}", response_model=DeviceServiceResponse)
    async def get_service(name: str) -> JSONResponse:
        return json_response(DeviceServiceResponse(service=services.store.get(name)))

    @r.delete(f"{prefix}/name/{{name}}", response_model=BaseResponse)
    async def delete_service(name: str) -> JSONResponse:
        await services.delete(name)
        return json_response(BaseResponse())

    return r


def watcher_router(watchers: WatcherRegistry, max_count: Callable[[], int], workers: ParseWorkers) -> APIRouter:
    """Provision watcher routes (/provisionwatcher...); large JSON bodies are validated in a parse worker."""
    r = APIRouter(tags=["provisionwatcher"], route_class=off_loop_bodies(workers))
    prefix = "/api/v3/provisionwatcher"

    def listing(keep: Callable[[ProvisionWatcher], bool], offset: str | None, limit: str | None) -> JSONResponse:
        items, total = page_of(watchers.all(), parse_page(offset, limit, max_count()), keep)
        return json_response(MultiProvisionWatchersResponse(total_count=total, provision_watchers=items))

    @r.post(prefix, status_code=207)
    async def add_watchers(reqs: list[AddProvisionWatcherRequest]) -> JSONResponse:
        async def one(q: AddProvisionWatcherRequest) -> dict[str, Any]:
            return item_created(q.request_id, await watchers.add(q.provision_watcher))

        return await multi_status(reqs, one)

    @r.patch(prefix, status_code=207)
    async def patch_watchers(reqs: list[UpdateProvisionWatcherRequest]) -> JSONResponse:
        async def one(q: UpdateProvisionWatcherRequest) -> dict[str, Any]:
            await watchers.patch(q.provision_watcher)
            return item_ok(q.request_id)

        return await multi_status(reqs, one)

    @r.get(f"{prefix}/all", response_model=MultiProvisionWatchersResponse)
    async def all_watchers(
        offset: str | None = None, limit: str | None = None, labels: str | None = None
    ) -> JSONResponse:
        want = set(parse_labels(labels))
        return listing(lambda w: want.issubset(w.labels or []), offset, limit)

    @r.get(f"{prefix}/name/{{name}}", response_model=ProvisionWatcherResponse)
    async def get_watcher(name: str) -> JSONResponse:
        return json_response(ProvisionWatcherResponse(provision_watcher=watchers.store.get(name)))

    @r.delete(f"{prefix}/name/{{name}}", response_model=BaseResponse)
    async def delete_watcher(name: str) -> JSONResponse:
        await watchers.delete(name)
        return json_response(BaseResponse())

    @r.get(f"{prefix}/service/name/{{name}}", response_model=MultiProvisionWatchersResponse)
    async def by_service(name: str, offset: str | None = None, limit: str | None = None) -> JSONResponse:
        return listing(lambda w: w.service_name == name, offset, limit)

    @r.get(f"{prefix}/profile/name/{{name}}", response_model=MultiProvisionWatchersResponse)
    async def by_profile(name: str, offset: str | None = None, limit: str | None = None) -> JSONResponse:
        return listing(lambda w: w.discovered_device.profile_name == name, offset, limit)

    return r
